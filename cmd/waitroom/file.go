package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/waitroom-idp/waitroom/waitroom/server"
)

// The configuration file is a YAML mapping of settings (the names of
// settings.go) plus rooms and clients. Its values go through the same
// parsers as the environment and flags, so a mistake reads the same
// wherever it was made, with the key and line it came from; unknown keys
// are errors that name the nearest known key.

// fileOnly are the keys only the file has.
var fileOnly = []string{"rooms", "clients"}

// loadFile reads the YAML configuration file at path over c and returns
// every problem.
func loadFile(c *server.Config, path string) []string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return []string{fmt.Sprintf("config file: %v", err)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return []string{fmt.Sprintf("config file %s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))}
	}
	if len(doc.Content) == 0 {
		return nil // an empty file sets nothing
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return []string{fmt.Sprintf("config file %s: want a mapping of settings (key: value), one per line", path)}
	}
	byName := map[string]setting{}
	names := append([]string(nil), fileOnly...)
	for _, s := range settings(c) {
		byName[s.Name] = s
		names = append(names, s.Name)
	}
	sort.Strings(names)
	var problems []string
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, value := root.Content[i], root.Content[i+1]
		at := fmt.Sprintf("%s (line %d)", key.Value, key.Line)
		if line, dup := seen[key.Value]; dup {
			problems = append(problems, fmt.Sprintf("%s: set twice (first on line %d)", at, line))
			continue
		}
		seen[key.Value] = key.Line
		switch key.Value {
		case "rooms":
			problems = append(problems, loadRooms(c, value)...)
		case "clients":
			problems = append(problems, loadClients(c, value)...)
		default:
			s, ok := byName[key.Value]
			switch {
			case ok:
				problems = append(problems, setFromNode(s, value, at)...)
			case retired[key.Value] != "":
				problems = append(problems, fmt.Sprintf("%s: %s", at, retired[key.Value]))
			default:
				problems = append(problems, fmt.Sprintf("%s: unknown setting%s", at, server.DidYouMean(key.Value, names)))
			}
		}
	}
	return problems
}

// setFromNode sets s from a scalar (any setting) or a list of scalars (a
// list setting).
func setFromNode(s setting, n *yaml.Node, at string) []string {
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return nil // "key:" with no value keeps the default
	case n.Kind == yaml.ScalarNode:
		if err := s.set(n.Value); err != nil {
			return []string{fmt.Sprintf("%s: %v", at, err)}
		}
		return nil
	case n.Kind == yaml.SequenceNode && s.setList != nil:
		var items []string
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				return []string{fmt.Sprintf("%s: want a list of %s values, got a nested %s on line %d", at, s.Name, kindName(item), item.Line)}
			}
			items = append(items, item.Value)
		}
		s.setList(items)
		return nil
	case s.setList != nil:
		return []string{fmt.Sprintf("%s: want a list or a comma-separated text, got %s", at, kindName(n))}
	default:
		return []string{fmt.Sprintf("%s: want one %s value, got %s", at, s.Type, kindName(n))}
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	default:
		return "a value"
	}
}

// documents decodes a list of mappings (rooms, clients); problems name the
// entry.
func documents(name string, n *yaml.Node) ([]map[string]any, []string) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, []string{fmt.Sprintf("%s (line %d): want a list, one entry per %s", name, n.Line, strings.TrimSuffix(name, "s"))}
	}
	var out []map[string]any
	var problems []string
	for i, item := range n.Content {
		var doc map[string]any
		if item.Kind != yaml.MappingNode {
			problems = append(problems, fmt.Sprintf("%s[%d] (line %d): want a mapping of fields, got %s", name, i, item.Line, kindName(item)))
			out = append(out, nil)
			continue
		}
		if err := item.Decode(&doc); err != nil {
			problems = append(problems, fmt.Sprintf("%s[%d] (line %d): %s", name, i, item.Line, strings.TrimPrefix(err.Error(), "yaml: ")))
		}
		out = append(out, doc)
	}
	return out, problems
}

// loadRooms keeps the rooms as documents: Config.Validate reads them the
// way the admin API reads a room.
func loadRooms(c *server.Config, n *yaml.Node) []string {
	docs, problems := documents("rooms", n)
	c.Rooms = docs
	return problems
}

// loadClients reads each client field by field; Config.Validate checks
// them as a whole.
func loadClients(c *server.Config, n *yaml.Node) []string {
	docs, problems := documents("clients", n)
	c.Clients = nil
	if len(problems) > 0 {
		return problems // an entry is not a mapping: the others are checked once it is
	}
	for i, d := range docs {
		client, p := server.DecodeClient(fmt.Sprintf("clients[%d]", i), d)
		problems = append(problems, p...)
		c.Clients = append(c.Clients, client)
	}
	return problems
}
