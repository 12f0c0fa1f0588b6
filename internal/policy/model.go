// Package policy is the typed model of an IAM policy document: parsing every
// shape AWS accepts (with JSON path and line:column on errors), canonical
// serialization, semantic equality and the size rules AWS enforces.
//
// The package is pure: no I/O, no AWS SDK. Evaluation lives in package eval.
package policy

// Versions AWS accepts in the Version element.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect is "Allow" or "Deny" (case-sensitive, as AWS requires).
type Effect string

// The two effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Document is a parsed policy. Version is "" when the element is absent.
type Document struct {
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one element of the Statement list. Nil slices mean the
// element is absent; AWS treats an absent element differently from an
// empty one, so parsing rejects empty lists rather than conflating them.
type Statement struct {
	Sid          string
	Effect       Effect
	Principal    *Principal
	NotPrincipal *Principal
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	Condition    []Condition
	// Pos is where the statement object starts in the source (zero when the
	// statement was built in code).
	Pos Position
}

// Principal is the Principal or NotPrincipal element. Wildcard is the bare
// string form "*"; the map form {"AWS":"*"} is AWS: ["*"]. AWS documents
// both as "everyone", and Equal treats them as equal, but the model keeps
// the written form so serialization round-trips.
type Principal struct {
	Wildcard      bool
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// Condition is one key under one operator of a Condition block, e.g.
// {"StringEquals": {"aws:SourceArn": [...]}} gives one Condition per key.
// Values are kept as text: JSON booleans and numbers are turned into their
// literal text ("false", "3"), which is how AWS compares them.
type Condition struct {
	Operator Operator
	Key      string
	Values   []string
	Pos      Position
}

// Position is a 1-based line and column in the source document.
type Position struct {
	Line   int
	Column int
}

// Operator is a parsed condition operator name such as
// "ForAnyValue:StringEqualsIfExists".
type Operator struct {
	Set      SetQualifier
	Base     string // e.g. "StringEquals", "Null"
	IfExists bool
}

// SetQualifier is the optional ForAnyValue:/ForAllValues: prefix.
type SetQualifier string

// Set qualifiers.
const (
	NoSet        SetQualifier = ""
	ForAnyValue  SetQualifier = "ForAnyValue"
	ForAllValues SetQualifier = "ForAllValues"
)

// String renders the operator the way it is written in a policy.
func (o Operator) String() string {
	s := o.Base
	if o.IfExists {
		s += "IfExists"
	}
	if o.Set != NoSet {
		s = string(o.Set) + ":" + s
	}
	return s
}

// Principal type keys of the map form.
const (
	PrincipalAWS           = "AWS"
	PrincipalService       = "Service"
	PrincipalFederated     = "Federated"
	PrincipalCanonicalUser = "CanonicalUser"
)
