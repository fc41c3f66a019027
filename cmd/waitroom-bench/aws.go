package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// The public queue API (the paths and field names of the AWS solution) and
// the admin call that admits visitors. Each call records its answer on the
// step of the same name.

const (
	stepAssign     = "assign_queue_num"
	stepQueueNum   = "queue_num"
	stepServing    = "serving_num"
	stepWaiting    = "waiting_num"
	stepToken      = "generate_token"
	stepIncrement  = "increment_serving_counter"
	stepCreateRoom = "create_room"
	stepCounters   = "counters"
	stepFill       = "fill"
)

// queueAPI holds the URLs of the queue API for one room, built once.
type queueAPI struct {
	room       string
	assign     string
	queueNum   string // without request_id
	serving    string
	waiting    string
	token      string
	increment  string
	rooms      string
	assignBody []byte
	challenge  string
	gate       *gatePool // nil: the room has no bot gate
	adminKey   string
	httpClient *http.Client
}

func newQueueAPI(cfg Config, roomID string, client *http.Client) *queueAPI {
	room := url.QueryEscape(roomID)
	return &queueAPI{
		room:       roomID,
		assign:     cfg.Target + "/assign_queue_num",
		queueNum:   cfg.Target + "/queue_num?event_id=" + room + "&request_id=",
		serving:    cfg.Target + "/serving_num?event_id=" + room,
		waiting:    cfg.Target + "/waiting_num?event_id=" + room,
		token:      cfg.Target + "/generate_token",
		increment:  cfg.Admin + "/increment_serving_counter",
		rooms:      cfg.Admin + "/v1/rooms",
		assignBody: mustJSON(map[string]string{"event_id": roomID}),
		challenge:  challengeURL(cfg, roomID),
		adminKey:   cfg.AdminKey,
		httpClient: client,
	}
}

// Assign enqueues one visitor and returns its request id, and its position
// when the answer carries it (waitroom's does; the AWS one did not, so 0).
func (q *queueAPI) Assign(ctx context.Context, rec *Recorder) (id string, pos int64, err error) {
	// Without a gate the body never changes: built once, not per request.
	body, err := q.enqueueBody(ctx, rec)
	if err != nil {
		return "", 0, err
	}
	req, err := http.NewRequest(http.MethodPost, q.assign, bytes.NewReader(body))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	a, err := send(ctx, q.httpClient, rec.Step(stepAssign), req)
	if err != nil {
		return "", 0, err
	}
	defer a.release()
	if a.Status != http.StatusOK {
		return "", 0, &StatusError{Step: stepAssign, Status: a.Status}
	}
	var out struct {
		ID       string  `json:"api_request_id"`
		Position flexInt `json:"queue_number"`
	}
	if err := a.decode(stepAssign, &out); err != nil {
		return "", 0, err
	}
	if out.ID == "" {
		return "", 0, &StepError{Step: stepAssign, Cause: "body", Err: errMissing("api_request_id")}
	}
	return out.ID, int64(out.Position), nil
}

// CreateRoom creates the room through the admin API, with default settings
// except those in settings; a room that already exists is left as it is.
func (q *queueAPI) CreateRoom(ctx context.Context, rec *Recorder, settings map[string]any) error {
	room := map[string]any{"id": q.room, "name": "benchmark"}
	for k, v := range settings {
		room[k] = v
	}
	req, err := jsonRequest(q.rooms, room)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+q.adminKey)
	a, err := send(ctx, q.httpClient, rec.Step(stepCreateRoom), req)
	if err != nil {
		return err
	}
	defer a.release()
	if a.Status != http.StatusCreated && a.Status != http.StatusConflict {
		return &StatusError{Step: stepCreateRoom, Status: a.Status}
	}
	return nil
}

// QueueNum returns the ticket's position; assigned=false when the server
// answers 202 (position not assigned yet).
func (q *queueAPI) QueueNum(ctx context.Context, rec *Recorder, id string) (pos int64, assigned bool, err error) {
	a, err := q.get(ctx, rec, stepQueueNum, q.queueNum+url.QueryEscape(id))
	if err != nil {
		return 0, false, err
	}
	defer a.release()
	switch a.Status {
	case http.StatusOK:
		var out struct {
			Position flexInt `json:"queue_number"`
		}
		err := a.decode(stepQueueNum, &out)
		return int64(out.Position), err == nil, err
	case http.StatusAccepted:
		return 0, false, nil
	}
	return 0, false, &StatusError{Step: stepQueueNum, Status: a.Status}
}

// Serving returns the room's serving counter.
func (q *queueAPI) Serving(ctx context.Context, rec *Recorder) (int64, error) {
	var out struct {
		Serving flexInt `json:"serving_counter"`
	}
	err := q.getJSON(ctx, rec, stepServing, q.serving, &out)
	return int64(out.Serving), err
}

// Waiting returns the room's waiting_num.
func (q *queueAPI) Waiting(ctx context.Context, rec *Recorder) (int64, error) {
	var out struct {
		Waiting flexInt `json:"waiting_num"`
	}
	err := q.getJSON(ctx, rec, stepWaiting, q.waiting, &out)
	return int64(out.Waiting), err
}

// GenerateToken asks for the admission token of an admitted ticket;
// served=false when the server answers 202 (not served yet).
func (q *queueAPI) GenerateToken(ctx context.Context, rec *Recorder, id string) (served bool, err error) {
	req, err := jsonRequest(q.token, map[string]string{"event_id": q.room, "request_id": id})
	if err != nil {
		return false, err
	}
	a, err := send(ctx, q.httpClient, rec.Step(stepToken), req)
	if err != nil {
		return false, err
	}
	defer a.release()
	switch a.Status {
	case http.StatusOK:
		var out struct {
			Access string `json:"access_token"`
			ID     string `json:"id_token"`
		}
		if err := a.decode(stepToken, &out); err != nil {
			return false, err
		}
		if out.Access == "" || out.ID == "" {
			return false, &StepError{Step: stepToken, Cause: "body", Err: errMissing("access_token/id_token")}
		}
		return true, nil
	case http.StatusAccepted:
		return false, nil
	}
	return false, &StatusError{Step: stepToken, Status: a.Status}
}

// Increment moves the serving counter through the admin API and returns
// its new value.
func (q *queueAPI) Increment(ctx context.Context, rec *Recorder, by int64) (int64, error) {
	req, err := jsonRequest(q.increment, map[string]any{"event_id": q.room, "increment_by": by})
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+q.adminKey)
	a, err := send(ctx, q.httpClient, rec.Step(stepIncrement), req)
	if err != nil {
		return 0, err
	}
	defer a.release()
	if a.Status != http.StatusOK {
		return 0, &StatusError{Step: stepIncrement, Status: a.Status}
	}
	var out struct {
		Serving flexInt `json:"serving_num"`
	}
	err = a.decode(stepIncrement, &out)
	return int64(out.Serving), err
}

// Fill adds n synthetic arrivals to the room through the admin API's bulk
// path (POST /v1/rooms/{id}/fill, at most 100000 a call) and returns a
// sample of their ids.
func (q *queueAPI) Fill(ctx context.Context, rec *Recorder, n int64) ([]string, error) {
	req, err := jsonRequest(q.rooms+"/"+url.PathEscape(q.room)+"/fill", map[string]int64{"count": n})
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+q.adminKey)
	a, err := send(ctx, q.httpClient, rec.Step(stepFill), req)
	if err != nil {
		return nil, err
	}
	defer a.release()
	if a.Status != http.StatusOK {
		return nil, &StatusError{Step: stepFill, Status: a.Status}
	}
	var out struct {
		Sample []string `json:"sample"`
	}
	err = a.decode(stepFill, &out)
	return out.Sample, err
}

// QueueLength reads the room's queue counter (positions handed out) from
// the admin API.
func (q *queueAPI) QueueLength(ctx context.Context, rec *Recorder) (int64, error) {
	req, err := http.NewRequest(http.MethodGet, q.rooms+"/"+url.PathEscape(q.room)+"/counters", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+q.adminKey)
	a, err := send(ctx, q.httpClient, rec.Step(stepCounters), req)
	if err != nil {
		return 0, err
	}
	defer a.release()
	if a.Status != http.StatusOK {
		return 0, &StatusError{Step: stepCounters, Status: a.Status}
	}
	var out struct {
		Queue flexInt `json:"queue"`
	}
	err = a.decode(stepCounters, &out)
	return int64(out.Queue), err
}

// RaiseServing raises the serving counter to at least pos.
func (q *queueAPI) RaiseServing(ctx context.Context, rec *Recorder, pos int64) error {
	serving, err := q.Serving(ctx, rec)
	if err != nil || serving >= pos {
		return err
	}
	_, err = q.Increment(ctx, rec, pos-serving)
	return err
}

func (q *queueAPI) get(ctx context.Context, rec *Recorder, step, u string) (answer, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return answer{}, err
	}
	return send(ctx, q.httpClient, rec.Step(step), req)
}

func (q *queueAPI) getJSON(ctx context.Context, rec *Recorder, step, u string, out any) error {
	a, err := q.get(ctx, rec, step, u)
	if err != nil {
		return err
	}
	defer a.release()
	if a.Status != http.StatusOK {
		return &StatusError{Step: step, Status: a.Status}
	}
	return a.decode(step, out)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with maps of strings
	}
	return b
}

type errMissing string

func (e errMissing) Error() string { return "answer lacks " + string(e) }
