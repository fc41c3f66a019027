// Package httpapi serves waitroom's REST APIs: the public queue API on the
// paths and JSON fields of the AWS Virtual Waiting Room (so its clients and
// load tests keep working), the admin API (the AWS private paths plus a
// resource API under /v1/rooms) and the operational endpoints (/healthz,
// /readyz, /metrics, /openapi.json).
//
// Handlers return errors; writeError is the one place that turns an error
// into a status and a JSON body {"error", "code", "message"}, and the only
// place that logs internal causes.
package httpapi
