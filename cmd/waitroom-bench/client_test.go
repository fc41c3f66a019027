package main

import (
	"encoding/json"
	"testing"
)

func TestFlexIntReadsNumbersAndStrings(t *testing.T) {
	var v struct {
		A flexInt `json:"a"`
		B flexInt `json:"b"`
	}
	if err := json.Unmarshal([]byte(`{"a":"125","b":7}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A != 125 || v.B != 7 {
		t.Fatalf("got %d %d", v.A, v.B)
	}
	if err := json.Unmarshal([]byte(`{"a":"x"}`), &v); err == nil {
		t.Fatal("a non-number string must fail")
	}
}
