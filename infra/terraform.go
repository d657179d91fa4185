package infra

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Module is a Terraform module's top-level blocks, read with HCL's native
// syntax parser and never evaluated.
type Module struct {
	// Files are the .tf file names read, sorted.
	Files []string
	// Variables by name.
	Variables map[string]*Variable
	// Locals by name.
	Locals map[string]hclsyntax.Expression
	// Resources by address "type.name".
	Resources map[string]*hclsyntax.Block
	// Data sources by address "type.name" (without "data.").
	Data map[string]*hclsyntax.Block
	// Ephemeral resources by address "type.name" (without "ephemeral.").
	Ephemeral map[string]*hclsyntax.Block
	// Outputs by name.
	Outputs map[string]*hclsyntax.Block
	// Terraform holds the terraform {} blocks.
	Terraform []*hclsyntax.Block
	// Providers holds the provider blocks.
	Providers []*hclsyntax.Block

	variableBlocks []*hclsyntax.Block

	src map[string][]byte // file name -> source, for Source
}

// Variable is a declared input variable.
type Variable struct {
	// Name is the variable's name.
	Name string
	// Description is its description attribute, "" if absent or not a
	// literal string.
	Description string
	// Type is the source text of its type constraint, "" if absent.
	Type string
	// Default is its default expression, nil when required.
	Default hclsyntax.Expression
	// Sensitive and Ephemeral are its flags when set to literal true.
	Sensitive, Ephemeral bool
	// Validations counts its validation blocks.
	Validations int
	// Range is where it is declared.
	Range hcl.Range
}

// Reference is a use of a named object inside an expression.
type Reference struct {
	// Kind is "var", "local", "resource", "data" or "ephemeral".
	Kind string
	// Name is the object's name: the variable or local name, or "type.name".
	Name string
	// Range is where the reference is.
	Range hcl.Range
}

// String renders the reference as Terraform spells it.
func (r Reference) String() string {
	switch r.Kind {
	case "resource":
		return r.Name
	case "data", "ephemeral", "var", "local":
		return r.Kind + "." + r.Name
	}
	return r.Kind + ":" + r.Name
}

// LoadTerraform parses every .tf file in dir.
func LoadTerraform(dir string) (*Module, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no .tf files in %s", dir)
	}
	sort.Strings(paths)
	m := &Module{
		Variables: map[string]*Variable{},
		Locals:    map[string]hclsyntax.Expression{},
		Resources: map[string]*hclsyntax.Block{},
		Data:      map[string]*hclsyntax.Block{},
		Ephemeral: map[string]*hclsyntax.Block{},
		Outputs:   map[string]*hclsyntax.Block{},
		src:       map[string][]byte{},
	}
	p := hclparse.NewParser()
	for _, path := range paths {
		f, diags := p.ParseHCLFile(path)
		if diags.HasErrors() {
			return nil, fmt.Errorf("parse %s: %w", filepath.Base(path), diags)
		}
		m.Files = append(m.Files, filepath.Base(path))
		m.src[path] = f.Bytes
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			return nil, fmt.Errorf("%s is not native HCL syntax", path)
		}
		if err := m.addBody(body); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Module) addBody(body *hclsyntax.Body) error {
	if len(body.Attributes) > 0 {
		for _, a := range body.Attributes {
			return fmt.Errorf("%s: top-level attribute %q", a.SrcRange, a.Name)
		}
	}
	for _, b := range body.Blocks {
		dup := func(kind, name string) error {
			return fmt.Errorf("%s: %s %q declared twice", b.DefRange(), kind, name)
		}
		switch b.Type {
		case "variable":
			v, err := m.variable(b)
			if err != nil {
				return err
			}
			if _, ok := m.Variables[v.Name]; ok {
				return dup("variable", v.Name)
			}
			m.Variables[v.Name] = v
			m.variableBlocks = append(m.variableBlocks, b)
		case "locals":
			for name, a := range b.Body.Attributes {
				if _, ok := m.Locals[name]; ok {
					return dup("local", name)
				}
				m.Locals[name] = a.Expr
			}
		case "resource", "data", "ephemeral":
			if len(b.Labels) != 2 {
				return fmt.Errorf("%s: %s block needs a type and a name", b.DefRange(), b.Type)
			}
			addr := b.Labels[0] + "." + b.Labels[1]
			target := map[string]map[string]*hclsyntax.Block{"resource": m.Resources, "data": m.Data, "ephemeral": m.Ephemeral}[b.Type]
			if _, ok := target[addr]; ok {
				return dup(b.Type, addr)
			}
			target[addr] = b
		case "output":
			if len(b.Labels) != 1 {
				return fmt.Errorf("%s: output block needs a name", b.DefRange())
			}
			if _, ok := m.Outputs[b.Labels[0]]; ok {
				return dup("output", b.Labels[0])
			}
			m.Outputs[b.Labels[0]] = b
		case "terraform":
			m.Terraform = append(m.Terraform, b)
		case "provider":
			m.Providers = append(m.Providers, b)
		}
	}
	return nil
}

func (m *Module) variable(b *hclsyntax.Block) (*Variable, error) {
	if len(b.Labels) != 1 {
		return nil, fmt.Errorf("%s: variable block needs a name", b.DefRange())
	}
	v := &Variable{Name: b.Labels[0], Range: b.DefRange()}
	attrs := b.Body.Attributes
	if a, ok := attrs["description"]; ok {
		v.Description, _ = StaticString(a.Expr)
	}
	if a, ok := attrs["type"]; ok {
		v.Type = m.Source(a.Expr)
	}
	if a, ok := attrs["default"]; ok {
		v.Default = a.Expr
	}
	v.Sensitive = staticTrue(attrs["sensitive"])
	v.Ephemeral = staticTrue(attrs["ephemeral"])
	for _, inner := range b.Body.Blocks {
		if inner.Type == "validation" {
			v.Validations++
		}
	}
	return v, nil
}

func staticTrue(a *hclsyntax.Attribute) bool {
	if a == nil {
		return false
	}
	v, diags := a.Expr.Value(nil)
	return !diags.HasErrors() && v.Type() == cty.Bool && v.IsKnown() && v.True()
}

// Source returns the source text of a node parsed by m.
func (m *Module) Source(n hclsyntax.Node) string {
	r := n.Range()
	src, ok := m.src[r.Filename]
	if !ok || r.End.Byte > len(src) || r.Start.Byte > r.End.Byte {
		return ""
	}
	return string(src[r.Start.Byte:r.End.Byte])
}

// StaticString returns the value of an expression that is a literal string
// (no references or function calls).
func StaticString(e hclsyntax.Expression) (string, bool) {
	if e == nil || len(e.Variables()) > 0 {
		return "", false
	}
	v, diags := e.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

// TraversalString renders a traversal like "aws_lb.api.dns_name".
func TraversalString(t hcl.Traversal) string {
	var sb strings.Builder
	for i, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			sb.WriteString(s.Name)
		case hcl.TraverseAttr:
			sb.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			switch {
			case s.Key.Type() == cty.String:
				fmt.Fprintf(&sb, "[%q]", s.Key.AsString())
			case s.Key.Type() == cty.Number:
				fmt.Fprintf(&sb, "[%s]", s.Key.AsBigFloat().Text('f', -1))
			default:
				sb.WriteString("[?]")
			}
		case hcl.TraverseSplat:
			sb.WriteString("[*]")
		default:
			if i > 0 {
				sb.WriteString(".?")
			}
		}
	}
	return sb.String()
}

// Resolve follows an expression that is exactly a `local.NAME` reference to
// the local's expression, repeatedly; other expressions come back as they
// are.
func (m *Module) Resolve(e hclsyntax.Expression) hclsyntax.Expression {
	for range 32 { // bounded: locals cannot be cyclic, but a broken file might be
		st, ok := e.(*hclsyntax.ScopeTraversalExpr)
		if !ok || len(st.Traversal) != 2 || st.Traversal.RootName() != "local" {
			return e
		}
		attr, ok := st.Traversal[1].(hcl.TraverseAttr)
		if !ok {
			return e
		}
		next, ok := m.Locals[attr.Name]
		if !ok {
			return e
		}
		e = next
	}
	return e
}

// References lists every var, local, resource, data and ephemeral reference
// in the module's expressions (resources, data sources, ephemeral
// resources, outputs, locals, providers, terraform blocks and variable
// validations), including depends_on lists.
func (m *Module) References() []Reference {
	var out []Reference
	var blocks []*hclsyntax.Block
	for _, set := range []map[string]*hclsyntax.Block{m.Resources, m.Data, m.Ephemeral, m.Outputs} {
		for _, k := range sortedKeys(set) {
			blocks = append(blocks, set[k])
		}
	}
	for _, name := range sortedKeys(m.Locals) {
		out = appendRefs(out, m.Locals[name], nil)
	}
	for _, b := range blocks {
		out = walkBlockRefs(out, b.Body, nil)
	}
	for _, set := range [][]*hclsyntax.Block{m.Terraform, m.Providers} {
		for _, b := range set {
			out = walkBlockRefs(out, b.Body, nil)
		}
	}
	for _, b := range m.variableBlocks {
		// A type constraint (string, list(string)) is not an expression.
		for _, name := range sortedKeys(b.Body.Attributes) {
			if name != "type" {
				out = appendRefs(out, b.Body.Attributes[name].Expr, nil)
			}
		}
		for _, inner := range b.Body.Blocks {
			out = walkBlockRefs(out, inner.Body, nil)
		}
	}
	return out
}

func walkBlockRefs(out []Reference, body *hclsyntax.Body, skip map[string]bool) []Reference {
	for _, name := range sortedKeys(body.Attributes) {
		out = appendRefs(out, body.Attributes[name].Expr, skip)
	}
	for _, b := range body.Blocks {
		inner := skip
		if b.Type == "dynamic" && len(b.Labels) == 1 {
			iter := b.Labels[0]
			if a, ok := b.Body.Attributes["iterator"]; ok {
				iter = hcl.ExprAsKeyword(a.Expr)
			}
			inner = map[string]bool{iter: true}
			for k := range skip {
				inner[k] = true
			}
		}
		out = walkBlockRefs(out, b.Body, inner)
	}
	return out
}

func appendRefs(out []Reference, e hclsyntax.Expression, skip map[string]bool) []Reference {
	for _, t := range e.Variables() {
		root := t.RootName()
		if skip[root] {
			continue
		}
		name := func(n int) string {
			var parts []string
			for _, step := range t[1:] {
				if len(parts) == n {
					break
				}
				if a, ok := step.(hcl.TraverseAttr); ok {
					parts = append(parts, a.Name)
				} else {
					break
				}
			}
			return strings.Join(parts, ".")
		}
		switch root {
		case "var", "local":
			out = append(out, Reference{Kind: root, Name: name(1), Range: t.SourceRange()})
		case "data", "ephemeral":
			out = append(out, Reference{Kind: root, Name: name(2), Range: t.SourceRange()})
		case "each", "count", "self", "path", "terraform", "module":
		default:
			if len(t) > 1 {
				if a, ok := t[1].(hcl.TraverseAttr); ok {
					out = append(out, Reference{Kind: "resource", Name: root + "." + a.Name, Range: t.SourceRange()})
					continue
				}
			}
			// A bare name: an unknown symbol Terraform would reject.
			out = append(out, Reference{Kind: "resource", Name: root, Range: t.SourceRange()})
		}
	}
	return out
}

// Unresolved returns the references to objects the module does not declare.
func (m *Module) Unresolved() []Reference {
	var out []Reference
	for _, r := range m.References() {
		var ok bool
		switch r.Kind {
		case "var":
			_, ok = m.Variables[r.Name]
		case "local":
			_, ok = m.Locals[r.Name]
		case "resource":
			_, ok = m.Resources[r.Name]
		case "data":
			_, ok = m.Data[r.Name]
		case "ephemeral":
			_, ok = m.Ephemeral[r.Name]
		}
		if !ok {
			out = append(out, r)
		}
	}
	return out
}

// NameRef is one {name = ..., value/valueFrom = ...} entry of a container
// definition's environment or secrets list.
type NameRef struct {
	// Name is the variable name; it must be a literal.
	Name string
	// Value is the source text of the value or valueFrom expression.
	Value string
	// Expr is the value or valueFrom expression.
	Expr hclsyntax.Expression
	// Range is where the entry is.
	Range hcl.Range
}

// ContainerDefinition is one container of an aws_ecs_task_definition whose
// container_definitions is jsonencode([...]).
type ContainerDefinition struct {
	// TaskDefinition is the resource address.
	TaskDefinition string
	// Name is the container name's source text (often a local).
	Name string
	// Fields are the container object's keys and value expressions, with
	// local references followed.
	Fields map[string]hclsyntax.Expression
	// Environment and Secrets are the entries of those lists.
	Environment, Secrets []NameRef
}

// ContainerDefinitions finds the containers of every ECS task definition.
// It fails if a task definition's container_definitions is not
// jsonencode of a list of objects, since then nothing can be checked.
func (m *Module) ContainerDefinitions() ([]ContainerDefinition, error) {
	var out []ContainerDefinition
	for _, addr := range sortedKeys(m.Resources) {
		b := m.Resources[addr]
		if b.Labels[0] != "aws_ecs_task_definition" {
			continue
		}
		a, ok := b.Body.Attributes["container_definitions"]
		if !ok {
			return nil, fmt.Errorf("%s: no container_definitions", addr)
		}
		call, ok := m.Resolve(a.Expr).(*hclsyntax.FunctionCallExpr)
		if !ok || call.Name != "jsonencode" || len(call.Args) != 1 {
			return nil, fmt.Errorf("%s: container_definitions is not jsonencode([...]); cannot check it", addr)
		}
		items, err := m.listItems(call.Args[0])
		if err != nil {
			return nil, fmt.Errorf("%s: container_definitions: %w", addr, err)
		}
		for _, item := range items {
			obj, ok := m.Resolve(item).(*hclsyntax.ObjectConsExpr)
			if !ok {
				return nil, fmt.Errorf("%s: %s: container is not an object literal", addr, item.Range())
			}
			cd := ContainerDefinition{TaskDefinition: addr, Fields: map[string]hclsyntax.Expression{}}
			for _, it := range obj.Items {
				key, ok := objectKey(it.KeyExpr)
				if !ok {
					return nil, fmt.Errorf("%s: %s: container key is not a literal", addr, it.KeyExpr.Range())
				}
				cd.Fields[key] = m.Resolve(it.ValueExpr)
			}
			if e, ok := cd.Fields["name"]; ok {
				cd.Name = m.Source(e)
			}
			for key, dst := range map[string]*[]NameRef{"environment": &cd.Environment, "secrets": &cd.Secrets} {
				e, ok := cd.Fields[key]
				if !ok {
					continue
				}
				entries, err := m.nameRefs(e, key)
				if err != nil {
					return nil, fmt.Errorf("%s: container %s: %w", addr, cd.Name, err)
				}
				*dst = entries
			}
			out = append(out, cd)
		}
	}
	return out, nil
}

// listItems flattens a tuple literal, concat(...) of tuples, and locals.
func (m *Module) listItems(e hclsyntax.Expression) ([]hclsyntax.Expression, error) {
	switch x := m.Resolve(e).(type) {
	case *hclsyntax.TupleConsExpr:
		return x.Exprs, nil
	case *hclsyntax.FunctionCallExpr:
		if x.Name != "concat" {
			break
		}
		var out []hclsyntax.Expression
		for _, arg := range x.Args {
			items, err := m.listItems(arg)
			if err != nil {
				return nil, err
			}
			out = append(out, items...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: %q is not a list literal", e.Range(), m.Source(e))
}

func (m *Module) nameRefs(e hclsyntax.Expression, key string) ([]NameRef, error) {
	items, err := m.listItems(e)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	valueKey := "value"
	if key == "secrets" {
		valueKey = "valueFrom"
	}
	var out []NameRef
	for _, item := range items {
		obj, ok := m.Resolve(item).(*hclsyntax.ObjectConsExpr)
		if !ok {
			return nil, fmt.Errorf("%s entry at %s is not an object literal", key, item.Range())
		}
		ref := NameRef{Name: "", Range: obj.Range()}
		for _, it := range obj.Items {
			k, _ := objectKey(it.KeyExpr)
			switch k {
			case "name":
				name, ok := StaticString(it.ValueExpr)
				if !ok {
					return nil, fmt.Errorf("%s entry at %s: name %q is not a literal string", key, obj.Range(), m.Source(it.ValueExpr))
				}
				ref.Name = name
			case valueKey:
				ref.Expr = it.ValueExpr
				ref.Value = m.Source(it.ValueExpr)
			}
		}
		if ref.Name == "" {
			return nil, fmt.Errorf("%s entry at %s has no name", key, obj.Range())
		}
		out = append(out, ref)
	}
	return out, nil
}

func objectKey(e hclsyntax.Expression) (string, bool) {
	if kw := hcl.ExprAsKeyword(e); kw != "" {
		return kw, true
	}
	v, diags := e.Value(nil)
	if diags.HasErrors() || v.Type() != cty.String || !v.IsKnown() {
		return "", false
	}
	return v.AsString(), true
}
