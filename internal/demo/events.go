// Package demo builds a synthetic organization's CloudTrail bucket: hourly
// log files with varied, realistic records, signed digest chains and the
// public keys to check them, so every command can be tried without AWS.
// Everything is derived from a seed: the same options give the same bytes.
package demo

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Identity is a record's userIdentity.
type Identity struct {
	Type             string          `json:"type"`
	PrincipalID      string          `json:"principalId,omitempty"`
	ARN              string          `json:"arn,omitempty"`
	AccountID        string          `json:"accountId,omitempty"`
	AccessKeyID      string          `json:"accessKeyId,omitempty"`
	UserName         string          `json:"userName,omitempty"`
	InvokedBy        string          `json:"invokedBy,omitempty"`
	SessionContext   *SessionContext `json:"sessionContext,omitempty"`
	IdentityProvider string          `json:"identityProvider,omitempty"`
}

// SessionContext is userIdentity.sessionContext.
type SessionContext struct {
	SessionIssuer  *Issuer           `json:"sessionIssuer,omitempty"`
	Attributes     SessionAttributes `json:"attributes"`
	SourceIdentity string            `json:"sourceIdentity,omitempty"`
}

// Issuer is sessionContext.sessionIssuer.
type Issuer struct {
	Type        string `json:"type"`
	PrincipalID string `json:"principalId"`
	ARN         string `json:"arn"`
	AccountID   string `json:"accountId"`
	UserName    string `json:"userName"`
}

// SessionAttributes is sessionContext.attributes.
type SessionAttributes struct {
	CreationDate     string `json:"creationDate"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}

// Resource is one entry of resources[].
type Resource struct {
	ARN       string `json:"ARN"`
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type,omitempty"`
}

// Record is one CloudTrail event as CloudTrail writes it.
type Record struct {
	EventVersion                 string            `json:"eventVersion"`
	UserIdentity                 Identity          `json:"userIdentity"`
	EventTime                    string            `json:"eventTime"`
	EventSource                  string            `json:"eventSource"`
	EventName                    string            `json:"eventName"`
	AWSRegion                    string            `json:"awsRegion"`
	SourceIPAddress              string            `json:"sourceIPAddress"`
	UserAgent                    string            `json:"userAgent,omitempty"`
	ErrorCode                    string            `json:"errorCode,omitempty"`
	ErrorMessage                 string            `json:"errorMessage,omitempty"`
	RequestParameters            map[string]any    `json:"requestParameters"`
	ResponseElements             map[string]any    `json:"responseElements"`
	AdditionalEventData          map[string]any    `json:"additionalEventData,omitempty"`
	RequestID                    string            `json:"requestID,omitempty"`
	EventID                      string            `json:"eventID"`
	ReadOnly                     *bool             `json:"readOnly,omitempty"`
	Resources                    []Resource        `json:"resources,omitempty"`
	EventType                    string            `json:"eventType"`
	ManagementEvent              *bool             `json:"managementEvent,omitempty"`
	RecipientAccountID           string            `json:"recipientAccountId"`
	SharedEventID                string            `json:"sharedEventID,omitempty"`
	VPCEndpointID                string            `json:"vpcEndpointId,omitempty"`
	EventCategory                string            `json:"eventCategory,omitempty"`
	SessionCredentialFromConsole string            `json:"sessionCredentialFromConsole,omitempty"`
	TLSDetails                   map[string]string `json:"tlsDetails,omitempty"`
}

// gen draws the parts of records from one seeded source.
type gen struct {
	r   *rand.Rand
	org *Org
}

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *gen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.r.IntN(16)]
	}
	return string(b)
}

func (g *gen) upper(n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[g.r.IntN(len(chars))]
	}
	return string(b)
}

func (g *gen) uuid() string {
	return g.hex(8) + "-" + g.hex(4) + "-4" + g.hex(3) + "-" + g.pick("8", "9", "a", "b") + g.hex(3) + "-" + g.hex(12)
}

func (g *gen) ip() string {
	return fmt.Sprintf("%d.%d.%d.%d", g.pick2(198, 203, 192), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
}

func (g *gen) pick2(xs ...int) int { return xs[g.r.IntN(len(xs))] }

func ptr(b bool) *bool { return &b }

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// versions of records CloudTrail delivers today, oldest first.
var versions = []string{"1.05", "1.08", "1.09", "1.10", "1.11"}
