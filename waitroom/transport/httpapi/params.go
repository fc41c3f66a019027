package httpapi

import (
	"fmt"
	"net/http"

	"github.com/waitroom-idp/waitroom/waitroom/transport/web"

	"github.com/google/uuid"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// eventID checks a room id taken from a query or a body.
func eventID(v string, present bool) (string, error) {
	if !present || v == "" {
		return "", web.Invalid("event_id: required")
	}
	if !waitroom.ValidRoomID(v) {
		return "", web.Invalid("event_id: 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
	}
	return v, nil
}

// requestID checks a queue request id, which is always a UUID.
func requestID(v string, present bool) (string, error) {
	if !present || v == "" {
		return "", web.Invalid("request_id: required")
	}
	if _, err := uuid.Parse(v); err != nil || len(v) != 36 {
		return "", web.Invalid("request_id: want a UUID like 3fa85f64-5717-4562-b3fc-2c963f66afa6")
	}
	return v, nil
}

// queryValue returns the first value of a query parameter and whether it
// was there at all.
func queryValue(r *http.Request, name string) (string, bool) {
	vs, ok := r.URL.Query()[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

func queryEventID(r *http.Request) (string, error) {
	return eventID(queryValue(r, "event_id"))
}

func queryRequestID(r *http.Request) (string, error) {
	return requestID(queryValue(r, "request_id"))
}

// strField returns the value of an optional string field of a JSON body.
func strField(p *string) (string, bool) {
	if p == nil {
		return "", false
	}
	return *p, true
}

func requiredInt(name string, p *int64) (int64, error) {
	if p == nil {
		return 0, web.Invalid(fmt.Sprintf("%s: required", name))
	}
	return *p, nil
}
