package panel

import (
	"testing"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom"
)

func TestSamplerKeepsAnHourAndMeasuresTheRate(t *testing.T) {
	s := NewSampler(nil, 10*time.Second, time.Now, nil)
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	if _, ok := s.RatePerMinute("r"); ok {
		t.Fatal("a rate without history")
	}
	// 30 admissions a minute for 70 minutes, sampled every 10 s.
	for i := 0; i <= 420; i++ {
		s.record("r", waitroom.Counters{Queue: 5000, Serving: int64(i * 5)}, t0.Add(time.Duration(i)*10*time.Second))
	}
	hist := s.History("r")
	if span := hist[len(hist)-1].At.Sub(hist[0].At); span > time.Hour {
		t.Fatalf("history spans %s, want at most an hour", span)
	}
	if rate, ok := s.RatePerMinute("r"); !ok || rate != 30 {
		t.Fatalf("rate %v %v, want 30", rate, ok)
	}
	if got := hist[len(hist)-1].AdmittedPerMinute; got != 30 {
		t.Fatalf("admitted per minute %v, want 30", got)
	}
	// A page view moments after a sample does not add a point.
	n := len(s.History("r"))
	s.record("r", waitroom.Counters{Serving: 2100}, t0.Add(4200*time.Second+time.Second))
	if len(s.History("r")) != n {
		t.Fatal("a sample one second after the last was kept")
	}
	// Ten minutes with the line empty do not dilute the pace.
	for i := 421; i <= 480; i++ {
		s.record("r", waitroom.Counters{Queue: 2100, Serving: 2100}, t0.Add(time.Duration(i)*10*time.Second))
	}
	for i := 481; i <= 490; i++ { // then 60 a minute while people wait again
		s.record("r", waitroom.Counters{Queue: 5000, Serving: 2100 + int64(i-480)*10}, t0.Add(time.Duration(i)*10*time.Second))
	}
	if rate, ok := s.RatePerMinute("r"); !ok || rate < 59 || rate > 61 {
		t.Fatalf("rate after an idle spell %v %v, want 60", rate, ok)
	}
	s.Forget("r")
	if len(s.History("r")) != 0 {
		t.Fatal("Forget kept history")
	}
}
