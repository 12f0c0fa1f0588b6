package session

import (
	"context"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestLoad_CustomCABundle: the watched client still trusts the CA bundle
// the configuration names (AWS_CA_BUNDLE), as the SDK's own client does.
func TestLoad_CustomCABundle(t *testing.T) {
	isolate(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
			`<Arn>arn:aws:iam::123456789012:user/ca</Arn><UserId>AIDCA</UserId><Account>123456789012</Account>`+
			`</GetCallerIdentityResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
	}))
	defer srv.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	call := func() error {
		cfg, endpoint, err := Load(context.Background(), Options{Region: "us-east-1", Endpoint: srv.URL})
		if err != nil {
			return err
		}
		_, err = sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(endpoint); o.RetryMaxAttempts = 1 }).
			GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		return err
	}
	if err := call(); err == nil {
		t.Fatal("a server whose certificate no bundle vouches for was trusted")
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	if err := call(); err != nil {
		t.Fatalf("with AWS_CA_BUNDLE: %v", err)
	}
}
