package waitroom_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// The layout's rules, checked from `go list -deps` (imports of non-test
// code), so that they cannot drift:
//
//   - the core (waitroom, waitroom/admission) imports no backend, no
//     transport, no OpenID package, no server and no database driver;
//   - a backend (waitroom/backend/...) imports no transport, OpenID
//     package or server;
//   - a transport (waitroom/transport/..., oidc/...) imports no backend
//     and no database driver: it sees stores through the core's contracts;
//   - the load generator (cmd/waitroom-bench) imports nothing of the
//     module: it knows the server only through its public HTTP contract;
//   - the command (cmd/waitroom) reaches the backends only through
//     waitroom/server;
//   - no program imports a test helper (storetest, backendtest, testenv);
//   - the admission verifier for websites (waitroom/transport/gate/verify)
//     imports nothing of the module: a site that uses it pulls in only it.

const module = "github.com/waitroom-idp/waitroom/"

// drivers are the database clients; only backends may use them.
var drivers = []string{"github.com/lib/pq", "github.com/redis/go-redis", "github.com/jmoiron/sqlx"}

type rule struct {
	name      string
	applies   func(pkg string) bool
	forbidden func(dep string) bool
	// direct checks the package's own imports, not all it depends on.
	direct bool
}

func under(prefixes ...string) func(string) bool {
	return func(p string) bool {
		for _, pre := range prefixes {
			if p == module+pre || strings.HasPrefix(p, module+pre+"/") {
				return true
			}
		}
		return false
	}
}

func isDriver(dep string) bool {
	for _, d := range drivers {
		if dep == d || strings.HasPrefix(dep, d+"/") {
			return true
		}
	}
	return false
}

var (
	core        = func(p string) bool { return p == module+"waitroom" || under("waitroom/admission")(p) }
	backends    = func(p string) bool { return under("waitroom/backend")(p) && !testHelpers(p) }
	transports  = under("waitroom/transport", "oidc")
	testHelpers = under("waitroom/backend/storetest", "waitroom/backend/backendtest", "waitroom/testenv")
	programs    = under("cmd", "waitroom/server")
)

var rules = []rule{
	{"the core imports no backend, transport, OpenID package, server or driver", core,
		func(d string) bool { return backends(d) || transports(d) || under("waitroom/server")(d) || isDriver(d) }, false},
	{"a backend imports no transport, OpenID package or server", backends,
		func(d string) bool { return transports(d) || under("waitroom/server")(d) }, false},
	{"a transport imports no backend and no driver", transports,
		func(d string) bool { return backends(d) || isDriver(d) || under("waitroom/server")(d) }, false},
	{"the load generator imports nothing of the module", under("cmd/waitroom-bench"),
		func(d string) bool { return strings.HasPrefix(d, module) }, false},
	{"the command reaches backends only through the server", func(p string) bool { return p == module+"cmd/waitroom" },
		func(d string) bool { return backends(d) || isDriver(d) }, true},
	{"no program imports a test helper", programs, testHelpers, false},
	{"the website verifier imports nothing of the module", under("waitroom/transport/gate/verify"),
		func(d string) bool { return strings.HasPrefix(d, module) }, false},
}

type listed struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func TestImportRules(t *testing.T) {
	cmd := exec.Command("go", "list", "-json", module+"...")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(out)
	checked := 0
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		for _, r := range rules {
			if !r.applies(p.ImportPath) {
				continue
			}
			checked++
			deps := p.Deps
			if r.direct {
				deps = p.Imports
			}
			for _, d := range deps {
				if r.forbidden(d) {
					t.Errorf("%s: %s depends on %s", r.name, p.ImportPath, d)
				}
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("only %d package checks ran: the rules no longer match the layout", checked)
	}
}
