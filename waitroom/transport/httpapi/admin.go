package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/transport/web"

	"github.com/waitroom-idp/waitroom/waitroom"
)

// Bounds of the admin /generate_token validity_period, in seconds: the same
// range a room's token_validity accepts.
const (
	minValiditySeconds = 1
	maxValiditySeconds = 31 * 24 * 3600
)

// Paging of /expired_tokens. AWS answered every id at once, which does not
// scale; the default page is large enough for most rooms and the next page
// is announced in a header so the bare-array body stays AWS-compatible.
const (
	defaultExpiredPage = waitroom.MaxExpiredPage
	maxExpiredPage     = waitroom.MaxExpiredPage
	nextCursorHeader   = "X-Next-Cursor"
)

var awsSessionTexts = awsTexts{
	waitroom.CodeNotFound:      {http.StatusNotFound, "Request ID doesn't exist or status already set."},
	waitroom.CodeSessionClosed: {http.StatusNotFound, "Request ID doesn't exist or status already set."},
	waitroom.CodeConflict:      {http.StatusNotFound, "Request ID doesn't exist or status already set."},
}

func (a *API) incrementServingCounter(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		EventID     *string `json:"event_id"`
		IncrementBy *int64  `json:"increment_by"`
	}
	if err := web.DecodeJSON(r, &in, true); err != nil {
		return err
	}
	room, err := eventID(strField(in.EventID))
	if err != nil {
		return err
	}
	by, err := requiredInt("increment_by", in.IncrementBy)
	if err != nil {
		return err
	}
	n, err := a.svc.AdvanceServing(r.Context(), room, by)
	if err != nil {
		return awsEventTexts.wrap(err)
	}
	a.audit(r, room, "room.serving", "", servingDoc{n - by}, servingDoc{n})
	web.JSON(w, http.StatusOK, web.NoStore, map[string]int64{"serving_num": n})
	return nil
}

func (a *API) numActiveTokens(w http.ResponseWriter, r *http.Request) error {
	room, err := queryEventID(r)
	if err != nil {
		return err
	}
	n, err := a.svc.ActiveTokens(r.Context(), room)
	if err != nil {
		return awsEventTexts.wrap(err)
	}
	web.JSON(w, http.StatusOK, web.NoStore, map[string]int64{"active_tokens": n})
	return nil
}

// expiredTokens answers a bare JSON array of request ids, as AWS did, one
// page at a time (query limit, cursor; next cursor in X-Next-Cursor).
func (a *API) expiredTokens(w http.ResponseWriter, r *http.Request) error {
	room, err := queryEventID(r)
	if err != nil {
		return err
	}
	limit, err := pageLimit(r.URL.Query())
	if err != nil {
		return err
	}
	cursor, _ := queryValue(r, "cursor")
	ids, next, err := a.svc.ExpiredTokens(r.Context(), room, cursor, limit)
	if err != nil {
		return awsEventTexts.wrap(err)
	}
	if ids == nil {
		ids = []string{}
	}
	if next != "" {
		w.Header().Set(nextCursorHeader, next)
	}
	web.JSON(w, http.StatusOK, web.NoStore, ids)
	return nil
}

func pageLimit(q url.Values) (int, error) {
	s := q.Get("limit")
	if s == "" {
		return defaultExpiredPage, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxExpiredPage {
		return 0, web.Invalid("limit: want an integer from 1 to " + strconv.Itoa(maxExpiredPage))
	}
	return n, nil
}

func (a *API) updateSession(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		EventID   *string `json:"event_id"`
		RequestID *string `json:"request_id"`
		Status    *int64  `json:"status"`
	}
	if err := web.DecodeJSON(r, &in, true); err != nil {
		return err
	}
	room, err := eventID(strField(in.EventID))
	if err != nil {
		return err
	}
	id, err := requestID(strField(in.RequestID))
	if err != nil {
		return err
	}
	status, err := sessionStatus(in.Status)
	if err != nil {
		return err
	}
	if err := a.svc.UpdateSession(r.Context(), room, id, status); err != nil {
		return awsSessionTexts.wrap(err)
	}
	web.JSON(w, http.StatusOK, web.NoStore, map[string]any{"event_id": room, "request_id": id, "status": int(status)})
	return nil
}

// sessionStatus accepts only the two final statuses: 1 completed and -1
// abandoned (a session cannot be made active again).
func sessionStatus(p *int64) (waitroom.SessionStatus, error) {
	v, err := requiredInt("status", p)
	if err != nil {
		return 0, err
	}
	switch s := waitroom.SessionStatus(v); s {
	case waitroom.SessionCompleted, waitroom.SessionAbandoned:
		return s, nil
	}
	return 0, web.Invalid("status: want 1 (completed) or -1 (abandoned)")
}

// adminGenerateToken is /generate_token with the AWS private-API extras: a
// chosen issuer and validity period.
func (a *API) adminGenerateToken(w http.ResponseWriter, r *http.Request) error {
	var in tokenRequest
	if err := web.DecodeJSON(r, &in, true); err != nil {
		return err
	}
	issuer, err := tokenIssuer(in.Issuer, a.opts.Issuer)
	if err != nil {
		return err
	}
	validity, err := validityPeriod(in.ValidityPeriod)
	if err != nil {
		return err
	}
	return a.issueToken(w, r, in, issuer, validity)
}

func tokenIssuer(p *string, fallback string) (string, error) {
	if p == nil || *p == "" {
		return fallback, nil
	}
	u, err := url.Parse(*p)
	if err != nil || !u.IsAbs() || u.Host == "" || len(*p) > 512 {
		return "", web.Invalid("issuer: want an absolute URL such as https://queue.example.com")
	}
	return *p, nil
}

func validityPeriod(p *int64) (time.Duration, error) {
	if p == nil {
		return 0, nil
	}
	if *p < minValiditySeconds || *p > maxValiditySeconds {
		return 0, web.Invalid("validity_period: want seconds from 1 to " + strconv.Itoa(maxValiditySeconds))
	}
	return time.Duration(*p) * time.Second, nil
}

func (a *API) resetInitialState(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		EventID *string `json:"event_id"`
	}
	if err := web.DecodeJSON(r, &in, true); err != nil {
		return err
	}
	room, err := eventID(strField(in.EventID))
	if err != nil {
		return err
	}
	if err := a.svc.Reset(r.Context(), room); err != nil {
		return awsEventTexts.wrap(err)
	}
	a.audit(r, room, "room.reset", "", nil, nil)
	web.JSON(w, http.StatusOK, web.NoStore, map[string]string{"event_id": room, "message": "Counters reset"})
	return nil
}
