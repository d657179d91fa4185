// Package infra reads the repository's deployment files — the Dockerfile,
// the compose file and the Terraform module — into plain Go values, so that
// tests can check them on machines without Docker or Terraform: which stages
// the image has and as which user it runs, which services, health checks and
// environment variables the local stack has, which variables the Terraform
// module declares and references, and what each ECS container definition puts
// in its environment and secrets.
//
// The parsers read the subset these files use; they are not general
// Dockerfile, Compose or Terraform implementations.
package infra

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Instruction is one Dockerfile instruction, continuation lines joined.
type Instruction struct {
	// Cmd is the instruction keyword in upper case, e.g. "RUN".
	Cmd string
	// Args is the rest of the instruction.
	Args string
	// Line is the 1-based line the instruction starts on.
	Line int
}

// Stage is one build stage: a FROM and the instructions after it.
type Stage struct {
	// Name is the stage's AS name, or "" when it has none.
	Name string
	// Base is the FROM image with build arguments expanded from their
	// defaults, e.g. "golang:1.26".
	Base string
	// Platform is the FROM --platform value, if any.
	Platform string
	// Line is the line of the FROM.
	Line int
	// Instructions follow the FROM, in order.
	Instructions []Instruction
}

// Find returns the stage's instructions with the keyword cmd.
func (s *Stage) Find(cmd string) []Instruction {
	var out []Instruction
	for _, in := range s.Instructions {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// Dockerfile is a parsed Dockerfile.
type Dockerfile struct {
	// Directives are the parser directives at the top (e.g. "syntax").
	Directives map[string]string
	// Args are the global ARGs before the first FROM, with their defaults.
	Args map[string]string
	// Stages are the build stages in order; the last is what a plain
	// `docker build` produces.
	Stages []*Stage
}

// Stage returns the stage called name, or nil.
func (d *Dockerfile) Stage(name string) *Stage {
	for _, s := range d.Stages {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Final returns the last stage.
func (d *Dockerfile) Final() *Stage {
	if len(d.Stages) == 0 {
		return nil
	}
	return d.Stages[len(d.Stages)-1]
}

var directiveRE = regexp.MustCompile(`^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$`)

// ParseDockerfile reads a Dockerfile: parser directives, comments, line
// continuations, global ARGs and FROM ... AS stages.
func ParseDockerfile(r io.Reader) (*Dockerfile, error) {
	d := &Dockerfile{Directives: map[string]string{}, Args: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	var (
		lineNo      int
		pending     strings.Builder
		pendingLine int
		inHeader    = true
	)
	flush := func() error {
		text := strings.TrimSpace(pending.String())
		pending.Reset()
		if text == "" {
			return nil
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := Instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args), Line: pendingLine}
		return d.add(in)
	}
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if inHeader {
			if m := directiveRE.FindStringSubmatch(trimmed); m != nil {
				d.Directives[strings.ToLower(m[1])] = m[2]
				continue
			}
			inHeader = false
		}
		if strings.HasPrefix(trimmed, "#") {
			continue // comments, also between continuation lines
		}
		if trimmed == "" && pending.Len() == 0 {
			continue
		}
		if pending.Len() == 0 {
			pendingLine = lineNo
		}
		if cont, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), `\`); ok {
			pending.WriteString(cont)
			pending.WriteByte(' ')
			continue
		}
		pending.WriteString(line)
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read Dockerfile: %w", err)
	}
	if pending.Len() > 0 {
		return nil, fmt.Errorf("Dockerfile line %d: continuation at end of file", pendingLine)
	}
	if len(d.Stages) == 0 {
		return nil, errors.New("Dockerfile has no FROM")
	}
	return d, nil
}

func (d *Dockerfile) add(in Instruction) error {
	switch {
	case in.Cmd == "FROM":
		return d.addStage(in)
	case len(d.Stages) == 0 && in.Cmd == "ARG":
		name, def, _ := strings.Cut(in.Args, "=")
		d.Args[strings.TrimSpace(name)] = strings.Trim(strings.TrimSpace(def), `"`)
		return nil
	case len(d.Stages) == 0:
		return fmt.Errorf("Dockerfile line %d: %s before the first FROM", in.Line, in.Cmd)
	}
	s := d.Stages[len(d.Stages)-1]
	s.Instructions = append(s.Instructions, in)
	return nil
}

func (d *Dockerfile) addStage(in Instruction) error {
	fields := strings.Fields(in.Args)
	s := &Stage{Line: in.Line}
	for len(fields) > 0 && strings.HasPrefix(fields[0], "--") {
		if v, ok := strings.CutPrefix(fields[0], "--platform="); ok {
			s.Platform = v
		}
		fields = fields[1:]
	}
	switch {
	case len(fields) == 1:
	case len(fields) == 3 && strings.EqualFold(fields[1], "AS"):
		s.Name = strings.ToLower(fields[2])
	default:
		return fmt.Errorf("Dockerfile line %d: FROM %q is not `FROM [--platform=...] image [AS name]`", in.Line, in.Args)
	}
	s.Base = os.Expand(fields[0], func(name string) string { return d.Args[name] })
	if s.Name != "" && d.Stage(s.Name) != nil {
		return fmt.Errorf("Dockerfile line %d: stage %q defined twice", in.Line, s.Name)
	}
	d.Stages = append(d.Stages, s)
	return nil
}

// Compose is the part of a Compose file the tests read.
type Compose struct {
	// Name is the project name.
	Name string `yaml:"name"`
	// Include lists included compose files.
	Include []ComposeInclude `yaml:"include"`
	// Services by name.
	Services map[string]*Service `yaml:"services"`
	// Volumes are the top-level named volumes.
	Volumes map[string]any `yaml:"volumes"`
}

// ComposeInclude is one entry of a top-level include list, in short
// (a path) or long (path: ...) form.
type ComposeInclude struct {
	// Path is the included file, relative to the including one.
	Path string
}

// UnmarshalYAML accepts both include forms.
func (c *ComposeInclude) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		c.Path = n.Value
		return nil
	}
	var long struct {
		Path yaml.Node `yaml:"path"`
	}
	if err := n.Decode(&long); err != nil {
		return fmt.Errorf("include at line %d: %w", n.Line, err)
	}
	if long.Path.Kind == yaml.SequenceNode && len(long.Path.Content) > 0 {
		c.Path = long.Path.Content[0].Value
	} else {
		c.Path = long.Path.Value
	}
	return nil
}

// Service is one Compose service.
type Service struct {
	// Image is the image name.
	Image string `yaml:"image"`
	// Build is the build section, nil when the service is not built.
	Build *Build `yaml:"build"`
	// Environment maps variable names to (uninterpolated) values.
	Environment Environment `yaml:"environment"`
	// DependsOn maps services to the condition waited for.
	DependsOn DependsOn `yaml:"depends_on"`
	// Healthcheck is the service's health check, nil when it has none.
	Healthcheck *Healthcheck `yaml:"healthcheck"`
	// Ports are the published ports.
	Ports []string `yaml:"ports"`
	// Volumes are the service's mounts in short form.
	Volumes []string `yaml:"volumes"`
}

// Build is a service's build section in short (a context path) or long form.
type Build struct {
	// Context is the build context directory.
	Context string `yaml:"context"`
	// Dockerfile is the Dockerfile path within the context.
	Dockerfile string `yaml:"dockerfile"`
	// Target is the stage built.
	Target string `yaml:"target"`
}

// UnmarshalYAML accepts the short form.
func (b *Build) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		b.Context = n.Value
		return nil
	}
	type plain Build
	return n.Decode((*plain)(b))
}

// Healthcheck is a service's health check.
type Healthcheck struct {
	// Test is the check command: ["CMD", ...], ["CMD-SHELL", "..."], or
	// a string (shell form).
	Test []string `yaml:"-"`
	// Disable turns an image's check off.
	Disable bool `yaml:"disable"`
	// Interval between checks, as written.
	Interval string `yaml:"interval"`
	// Timeout of one check, as written.
	Timeout string `yaml:"timeout"`
	// Retries before the container counts as unhealthy.
	Retries int `yaml:"retries"`
}

// UnmarshalYAML accepts test as a list or a string.
func (h *Healthcheck) UnmarshalYAML(n *yaml.Node) error {
	type plain Healthcheck
	var raw struct {
		plain `yaml:",inline"`
		Test  yaml.Node `yaml:"test"`
	}
	if err := n.Decode(&raw); err != nil {
		return err
	}
	*h = Healthcheck(raw.plain)
	switch raw.Test.Kind {
	case 0:
	case yaml.ScalarNode:
		h.Test = []string{"CMD-SHELL", raw.Test.Value}
	case yaml.SequenceNode:
		if err := raw.Test.Decode(&h.Test); err != nil {
			return fmt.Errorf("healthcheck test at line %d: %w", raw.Test.Line, err)
		}
	default:
		return fmt.Errorf("healthcheck test at line %d is neither a string nor a list", raw.Test.Line)
	}
	return nil
}

// Environment is a service's environment in map or "KEY=VALUE" list form.
type Environment map[string]string

// UnmarshalYAML accepts both forms.
func (e *Environment) UnmarshalYAML(n *yaml.Node) error {
	out := Environment{}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if _, dup := out[k.Value]; dup {
				return fmt.Errorf("environment line %d: %s set twice", k.Line, k.Value)
			}
			out[k.Value] = v.Value
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			k, v, _ := strings.Cut(item.Value, "=")
			if _, dup := out[k]; dup {
				return fmt.Errorf("environment line %d: %s set twice", item.Line, k)
			}
			out[k] = v
		}
	default:
		return fmt.Errorf("environment at line %d is neither a map nor a list", n.Line)
	}
	*e = out
	return nil
}

// DependsOn maps a service's dependencies to the condition waited for;
// the list form means "service_started".
type DependsOn map[string]string

// UnmarshalYAML accepts both forms.
func (d *DependsOn) UnmarshalYAML(n *yaml.Node) error {
	out := DependsOn{}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, item := range n.Content {
			out[item.Value] = "service_started"
		}
	case yaml.MappingNode:
		var long map[string]struct {
			Condition string `yaml:"condition"`
		}
		if err := n.Decode(&long); err != nil {
			return err
		}
		for k, v := range long {
			if v.Condition == "" {
				v.Condition = "service_started"
			}
			out[k] = v.Condition
		}
	default:
		return fmt.Errorf("depends_on at line %d is neither a list nor a map", n.Line)
	}
	*d = out
	return nil
}

// LoadCompose reads a Compose file.
func LoadCompose(path string) (*Compose, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read compose file: %w", err)
	}
	var c Compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Base(path), err)
	}
	return &c, nil
}

var interpRE = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// Interpolate expands Compose's ${VAR}, ${VAR:-default}, ${VAR-default},
// ${VAR:?error}, $VAR and $$ in s, looking names up in env (a missing name
// is unset). It fails on ${VAR:?...} with VAR unset or empty, as Compose
// does, and on an unterminated ${.
func Interpolate(s string, env map[string]string) (string, error) {
	var firstErr error
	out := interpRE.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sub := interpRE.FindStringSubmatch(m)
		name, op, arg := sub[1], sub[2], sub[3]
		if name == "" {
			name = sub[4]
		}
		v, set := env[name]
		switch op {
		case ":-":
			if v == "" {
				return arg
			}
		case "-":
			if !set {
				return arg
			}
		case ":?", "?":
			if !set || (op == ":?" && v == "") {
				if firstErr == nil {
					firstErr = fmt.Errorf("required variable %s is not set: %s", name, arg)
				}
			}
		}
		return v
	})
	if firstErr != nil {
		return "", firstErr
	}
	if strings.Contains(interpRE.ReplaceAllString(s, ""), "${") {
		return "", fmt.Errorf("unterminated or invalid ${ in %q", s)
	}
	return out, nil
}

// ReadEnvFile reads a dotenv file of KEY=VALUE lines, skipping blanks and
// comments, in file order.
func ReadEnvFile(path string) ([][2]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read env file: %w", err)
	}
	defer f.Close()
	var out [][2]string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("%s line %d: want KEY=VALUE", filepath.Base(path), n)
		}
		out = append(out, [2]string{strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"'`)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read env file: %w", err)
	}
	return out, nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
