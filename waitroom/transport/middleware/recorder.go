package middleware

import "net/http"

// recorder remembers the status and size of an answer for the access log
// and the metrics.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (flush,
// deadlines) through the recorder.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Status is the answer's status; 200 if the handler wrote nothing.
func (r *recorder) Status() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// Recorded wraps w so that the status and size written through it can be
// read afterwards. A writer already wrapped is returned as is.
func Recorded(w http.ResponseWriter) (http.ResponseWriter, func() (status int, bytes int64)) {
	rec, ok := w.(*recorder)
	if !ok {
		rec = &recorder{ResponseWriter: w}
	}
	return rec, func() (int, int64) { return rec.Status(), rec.bytes }
}
