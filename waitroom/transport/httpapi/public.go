package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/transport/web"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/admission"
)

// The AWS wording of errors, per group of paths. Clients written for the
// AWS solution match on these strings.
var (
	awsEventTexts = awsTexts{
		waitroom.CodeNotFound: {http.StatusBadRequest, "Invalid event ID"},
	}
	awsRequestTexts = awsTexts{
		waitroom.CodeNotFound: {http.StatusBadRequest, "Invalid event or request ID"},
	}
	awsTokenTexts = awsTexts{
		waitroom.CodeNotFound:      {http.StatusBadRequest, "Invalid event or request ID"},
		waitroom.CodeNotServed:     {http.StatusAccepted, "Request ID not being served yet"},
		waitroom.CodeExpired:       {http.StatusGone, "Queue position has expired"},
		waitroom.CodeSessionClosed: {http.StatusGone, "Session already completed or abandoned"},
	}
	awsExpiryTexts = awsTexts{
		waitroom.CodeNotFound:       {http.StatusNotFound, "Request ID not found"},
		waitroom.CodeNotServed:      {http.StatusAccepted, "Request ID not being served yet"},
		waitroom.CodeExpiryDisabled: {http.StatusAccepted, "Queue position expiry is disabled"},
		waitroom.CodeExpired:        {http.StatusGone, "Queue position has expired"},
	}
)

// ticketAnswer is a queue position on the wire. entry_time is in epoch
// seconds as in AWS; api_request_id is only sent by /assign_queue_num.
type ticketAnswer struct {
	APIRequestID string `json:"api_request_id,omitempty"`
	QueueNumber  int64  `json:"queue_number"`
	EntryTime    int64  `json:"entry_time"`
	EventID      string `json:"event_id"`
	Status       int    `json:"status"`
}

func answerTicket(t waitroom.Ticket) ticketAnswer {
	return ticketAnswer{QueueNumber: t.Position, EntryTime: t.EntryTime.Unix(), EventID: t.Room, Status: int(t.Status)}
}

// idempotencyHeader lets a client retry /assign_queue_num (after a timeout,
// say) without taking a second place: the same key in the same room returns
// the same ticket. Keys should be random (a UUID): whoever knows one can
// read its ticket.
const idempotencyHeader = "Idempotency-Key"

// assignQueueNum enqueues synchronously: unlike AWS, the answer is sent
// only once the position is assigned and stored, and it carries it.
func (a *API) assignQueueNum(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		EventID *string `json:"event_id"`
		// The bot gate's answer, when the room has one (gate.go).
		Challenge string `json:"challenge"`
		Solution  string `json:"solution"`
		Captcha   string `json:"captcha"`
	}
	if err := web.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	room, err := eventID(strField(in.EventID))
	if err != nil {
		return err
	}
	answer := admission.Answer{Challenge: in.Challenge, Solution: in.Solution, Captcha: in.Captcha}
	if err := a.passGate(r, room, answer); err != nil {
		return err
	}
	t, err := a.svc.Enqueue(r.Context(), room, r.Header.Get(idempotencyHeader))
	if err != nil {
		return awsEventTexts.wrap(err)
	}
	out := answerTicket(t)
	out.APIRequestID = t.ID
	web.JSON(w, http.StatusOK, web.NoStore, out)
	return nil
}

// queueNum answers a position. A request id's position never changes within
// a room generation, so the answer may be cached long.
func (a *API) queueNum(w http.ResponseWriter, r *http.Request) error {
	room, id, err := roomAndRequest(r)
	if err != nil {
		return err
	}
	t, err := a.svc.Ticket(r.Context(), room, id)
	if err != nil {
		return awsRequestTexts.wrap(err)
	}
	web.JSON(w, http.StatusOK, a.queueNumCache, answerTicket(t))
	return nil
}

// servingNum keeps the AWS wire format: the counter is a JSON string.
// "stale": true says the numbers came from the durable store while the
// fast copy was unreachable (absent otherwise, as in AWS).
func (a *API) servingNum(w http.ResponseWriter, r *http.Request) error {
	c, err := a.progress(r)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, a.servingCache, struct {
		Serving string `json:"serving_counter"`
		Stale   bool   `json:"stale,omitempty"`
	}{strconv.FormatInt(c.Serving, 10), c.Stale})
	return nil
}

func (a *API) waitingNum(w http.ResponseWriter, r *http.Request) error {
	c, err := a.progress(r)
	if err != nil {
		return err
	}
	web.JSON(w, http.StatusOK, a.servingCache, struct {
		Waiting int64 `json:"waiting_num"`
		Stale   bool  `json:"stale,omitempty"`
	}{c.Waiting(), c.Stale})
	return nil
}

// progress reads the counters of the room named by event_id, as the public
// polls show them.
func (a *API) progress(r *http.Request) (waitroom.Counters, error) {
	room, err := queryEventID(r)
	if err != nil {
		return waitroom.Counters{}, err
	}
	c, err := a.svc.Progress(r.Context(), room)
	return c, awsEventTexts.wrap(err)
}

// queuePosExpiry tells an admitted visitor how long their position stays
// valid without a token. The room is looked up first so that an unknown
// room (400) and an unknown request (404) get the AWS answers.
func (a *API) queuePosExpiry(w http.ResponseWriter, r *http.Request) error {
	room, id, err := roomAndRequest(r)
	if err != nil {
		return err
	}
	if _, err := a.svc.Room(r.Context(), room); err != nil {
		return awsEventTexts.wrap(err)
	}
	d, err := a.svc.QueuePositionExpiry(r.Context(), room, id)
	if err != nil {
		return awsExpiryTexts.wrap(err)
	}
	web.JSON(w, http.StatusOK, web.NoStore, map[string]int64{"expires_in": ceilDuration(d)})
	return nil
}

// tokenRequest is the body of /generate_token; Issuer and ValidityPeriod are
// read on the admin listener only.
type tokenRequest struct {
	EventID        *string `json:"event_id"`
	RequestID      *string `json:"request_id"`
	Issuer         *string `json:"issuer"`
	ValidityPeriod *int64  `json:"validity_period"`
}

type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

func (a *API) generateToken(w http.ResponseWriter, r *http.Request) error {
	var in tokenRequest
	if err := web.DecodeJSON(r, &in, false); err != nil {
		return err
	}
	return a.issueToken(w, r, in, a.opts.Issuer, 0)
}

func (a *API) issueToken(w http.ResponseWriter, r *http.Request, in tokenRequest, issuer string, validity time.Duration) error {
	room, err := eventID(strField(in.EventID))
	if err != nil {
		return err
	}
	id, err := requestID(strField(in.RequestID))
	if err != nil {
		return err
	}
	t, err := a.svc.IssueToken(r.Context(), room, id, issuer, validity)
	if err != nil {
		return awsTokenTexts.wrap(err)
	}
	web.JSON(w, http.StatusOK, web.NoStore, tokenAnswer{AccessToken: t.Access, RefreshToken: t.Refresh, IDToken: t.ID, TokenType: "Bearer", ExpiresIn: t.ExpiresIn})
	return nil
}

// publicKey answers the current signing key as a public JWK, as AWS did.
// The full set (for verifying tokens across a key rotation) is the JWKS of
// the OpenID provider.
func (a *API) publicKey(w http.ResponseWriter, r *http.Request) error {
	room, err := queryEventID(r)
	if err != nil {
		return err
	}
	if _, err := a.svc.Room(r.Context(), room); err != nil {
		return awsEventTexts.wrap(err)
	}
	kid, _, _ := a.keys.Current()
	jwk, ok := a.keys.PublicJWK(kid)
	if !ok {
		return waitroom.Errorf(waitroom.CodeInternal, "current signing key %q has no public JWK", kid)
	}
	web.JSON(w, http.StatusOK, a.publicKeyCache, jwk)
	return nil
}

func roomAndRequest(r *http.Request) (room, id string, err error) {
	if room, err = queryEventID(r); err != nil {
		return "", "", err
	}
	if id, err = queryRequestID(r); err != nil {
		return "", "", err
	}
	return room, id, nil
}

// ceilDuration rounds up to whole seconds so that a position with 0.4 s
// left is not reported as already expired.
func ceilDuration(d time.Duration) int64 {
	return int64(math.Ceil(d.Seconds()))
}
