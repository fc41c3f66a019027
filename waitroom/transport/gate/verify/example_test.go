package verify_test

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/waitroom-idp/waitroom/waitroom/transport/gate/verify"
)

// A checkout page for admitted visitors only; everyone else goes to the
// room, which brings them back.
func ExampleVerifier_Middleware() {
	keys := verify.NewJWKS("https://queue.example.com/keys", nil)
	v := &verify.Verifier{Issuer: "https://queue.example.com", Room: "launch", Keys: keys, Leeway: 5 * time.Second}
	checkout := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.FromContext(r.Context())
		fmt.Fprintf(w, "welcome, visitor %d", c.Position)
	})
	toRoom := http.RedirectHandler("https://queue.example.com/gate/launch/wait?return="+
		url.QueryEscape("https://shop.example.com/checkout"), http.StatusFound)
	http.Handle("/checkout", v.Middleware(checkout, toRoom))
}
