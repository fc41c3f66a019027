package main

import (
	"fmt"
	"strings"

	"github.com/waitroom-idp/waitroom/waitroom/server"
)

// checkConfig reports a configuration that validated (ParseFlags already
// refused one that did not, with every problem): what the server would
// run with, and any warnings.
func (m *Main) checkConfig() {
	c := m.Config
	w := m.Stdout
	fmt.Fprintln(w, "configuration OK")
	if m.ConfigFile != "" {
		fmt.Fprintf(w, "  file:     %s\n", m.ConfigFile)
	}
	if c.Embedded() {
		fmt.Fprintf(w, "  store:    embedded, one node (signing keys in %s)\n", c.DataDir)
	} else {
		fmt.Fprintln(w, "  store:    Redis + PostgreSQL")
	}
	fmt.Fprintf(w, "  public:   %s on %s, issuer %s\n", scheme(c.TLS()), c.HTTPAddr, c.PublicURL())
	fmt.Fprintf(w, "  admin:    %s on %s\n", scheme(c.AdminTLS()), c.AdminAddr)
	metrics := "open (no metrics_token)"
	if c.MetricsToken != "" {
		metrics = "metrics_token required"
	}
	fmt.Fprintf(w, "  metrics:  on the %s listener, %s\n", c.MetricsListener, metrics)
	on, why := c.DemoOn()
	fmt.Fprintf(w, "  demo:     %s (%s)\n", map[bool]string{true: "on", false: "off"}[on], why)
	fmt.Fprintf(w, "  rooms:    %s\n", listOr(roomIDs(c), "none in the file"))
	fmt.Fprintf(w, "  clients:  %s\n", listOr(clientIDs(c), "none in the file"))
	for _, warning := range m.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
}

func scheme(tls bool) string {
	if tls {
		return "https"
	}
	return "http"
}

func roomIDs(c server.Config) []string {
	var ids []string
	for _, r := range c.Rooms {
		id, _ := r["id"].(string)
		ids = append(ids, id)
	}
	return ids
}

func clientIDs(c server.Config) []string {
	var ids []string
	for _, cl := range c.Clients {
		ids = append(ids, cl.ID+" (room "+cl.Room+")")
	}
	return ids
}

func listOr(items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return strings.Join(items, ", ")
}
