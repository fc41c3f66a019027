package main

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"github.com/waitroom-idp/waitroom/waitroom/server"
	"github.com/waitroom-idp/waitroom/waitroom/transport/httpapi"
)

// hashKey prints a new admin key and the hash to configure, or with "-"
// the hash of a key read from stdin (so it never appears in shell history).
func (m *Main) hashKey() error {
	key := ""
	switch {
	case len(m.Args) == 0:
		key = server.NewAdminKey()
		fmt.Fprintf(m.Stdout, "admin key (give it to the admin, keep it secret): %s\n", key)
	case len(m.Args) == 1 && m.Args[0] == "-":
		line, err := bufio.NewReader(m.Stdin).ReadString('\n')
		key = strings.TrimRight(line, "\r\n")
		if key == "" {
			return errors.New("hash-key: no key on stdin")
		}
		_ = err // a key without a final newline is fine
	default:
		return errors.New("hash-key: no argument (generate a key) or '-' (read the key from stdin)")
	}
	fmt.Fprintf(m.Stdout, "WAITROOM_ADMIN_KEY_HASHES=%s\n", httpapi.HashAdminKey(key))
	return nil
}
