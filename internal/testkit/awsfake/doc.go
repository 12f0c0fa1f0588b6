// Package awsfake is test infrastructure: a loopback "recorded AWS world"
// that the real AWS SDK clients talk to, so the adapters that read and
// change live configuration (internal/aws/inventory, internal/aws/deploy) are tested
// through the SDK's own serializers, signers, retryers and deserializers.
//
// There is no emulator for the control-plane APIs trailwarden uses
// (CloudTrail, S3 bucket configuration, KMS, IAM, STS, Organizations,
// Account), and mocking the SDK's Go interfaces would test our guesses
// about the SDK rather than the wire. Instead every client is pointed at one
// httptest server (BaseEndpoint, or session's Endpoint). The server works
// out what AWS would: the service and region from the SigV4 credential
// scope, the operation from X-Amz-Target (JSON 1.1), the Action field
// (Query) or the REST path and sub-resource (S3, Account), and the account
// from the access key id (AssumeRole hands out keys that encode the role's
// account; the base keys belong to World.Caller).
//
// Responses come from a World: raw recorded bodies in the exact wire shapes
// (checked against the SDK deserializers in the Go module cache), keyed by
// account, region, service, operation, resource and page token, loaded from
// Go values or testdata files (see Load); a small typed state for the
// resources apply changes (bucket and key policies, IAM roles, trails), so
// that a write changes what later reads return; default "not configured"
// errors for anything not recorded; and injected faults (throttling N times,
// AccessDenied, ...). Every request is recorded as a Call so tests can
// assert the exact calls and their order.
package awsfake
