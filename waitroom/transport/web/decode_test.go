package web_test

import (
	"strings"
	"testing"

	"github.com/waitroom-idp/waitroom/waitroom"
	"github.com/waitroom-idp/waitroom/waitroom/transport/web"
)

// TestDecodeMessagesNameFieldsNotGoTypes: a wrong value is described by
// its JSON field and the kind of value wanted; no message names a Go type.
func TestDecodeMessagesNameFieldsNotGoTypes(t *testing.T) {
	cases := []struct {
		body string
		dst  func() any
		want string
	}{
		{`{"redirect_uris":"https://rp.example/cb"}`, func() any { return &waitroom.Client{} },
			"redirect_uris must be an array of strings, not a string"},
		{`{"redirect_uris":[1]}`, func() any { return &waitroom.Client{} }, "redirect_uris must be a string, not a number"},
		{`{"claims":[]}`, func() any { return &waitroom.Client{} }, "claims must be an object of strings, not an array"},
		{`{"claims":{"a":true}}`, func() any { return &waitroom.Client{} }, "claims must be a string, not true or false"},
		{`{"max_hold":true}`, func() any { return &waitroom.Client{} }, "duration: want a string"},
		{`{"id":{}}`, func() any { return &waitroom.Room{} }, "id must be a string, not an object"},
		{`[1]`, func() any { return &waitroom.Room{} }, "want a JSON object, got an array"},
		{`{"n":-1}`, func() any {
			return &struct {
				N uint `json:"n"`
			}{}
		}, "n must be a whole number, 0 or more, not a number -1"},
	}
	for _, c := range cases {
		err := web.UnmarshalJSON([]byte(c.body), c.dst(), true)
		p := web.Classify(err)
		if err == nil || p.Status != 400 || !strings.Contains(p.Message, c.want) {
			t.Errorf("%s: got %v, want a 400 saying %q", c.body, err, c.want)
		}
		if strings.Contains(p.Message, "Go ") || strings.Contains(p.Message, "[]string") || strings.Contains(p.Message, "waitroom.") {
			t.Errorf("%s: message %q names a Go type", c.body, p.Message)
		}
	}
}

// TestDecodeRefusesNULAndInvalidUTF8: neither reaches a handler, whether
// raw or escaped; an escaped backslash followed by "u0000" is plain text.
func TestDecodeRefusesNULAndInvalidUTF8(t *testing.T) {
	var in struct {
		Name string `json:"name"`
	}
	for _, body := range []string{`{"name":"a\u0000b"}`, "{\"name\":\"a\xffb\"}", "{\"name\":\"\xc3\"}", `{"name":"ok","x":"\u0000"}`, `{"\u0000":1}`} {
		err := web.UnmarshalJSON([]byte(body), &in, false)
		if p := web.Classify(err); err == nil || p.Status != 400 || !strings.Contains(p.Message, "UTF-8") {
			t.Errorf("%q: got %v, want a 400 about UTF-8 and NUL", body, err)
		}
	}
	for body, want := range map[string]string{`{"name":"a\\u0000b"}`: `a\u0000b`, `{"name":"é\u00e9\\"}`: `éé\`, `{"name":"\ud800"}`: "\ufffd"} {
		in.Name = ""
		if err := web.UnmarshalJSON([]byte(body), &in, false); err != nil || in.Name != want {
			t.Errorf("%s: got %q, %v; want %q", body, in.Name, err, want)
		}
	}
}
