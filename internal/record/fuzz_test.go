package record_test

import (
	"testing"
)

// FuzzScan checks that Scan never panics, that it fails only with a
// *SyntaxError inside the input, that it accepts a file exactly when
// encoding/json reads it as an object with one Records array of objects
// (below maxDepth), and that every record it reports matches encoding/json's
// reading of it (checkRecord).
func FuzzScan(f *testing.F) {
	for _, data := range corpus(f) {
		f.Add(data)
	}
	for _, s := range []string{
		`{"Records":[]}`,
		`{"Records":[{}],"Records":[{}]}`,
		`{"awsAccountId":"1","logFiles":[]}`,
		`{"Records":[{"userIdentity":{"type":"A"},"userIdentity":null}]}`,
		`{"Records":[{"userIdentity.type":1,"userIdentity":{"type":2}}]}`,
		`{"Records":[{"userIdentity":{"sessionContext":{"attributes":{}}}}]}`,
		`{"Records":[{"eventTime":"2024-01-01T00:00:00.1234567Z","readOnly":"true"}]}`,
		"{\"Records\":[{\"k\\u0000\xff\":\"\\ud800\\udc00\\udc00\"}]} ",
		`{"Records":[{"requestParameters":{"k":"\ud800","\\ud800":"\udc00\ud800\udc00"},"x":["\udbff"]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = checkFile(t, data)
	})
}
