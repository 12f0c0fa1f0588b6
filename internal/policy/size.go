package policy

// Size limits AWS enforces on policy documents. Compare them with Size,
// which measures the compact canonical form: that is the smallest text the
// document can be sent as, and the form this package sends. The canonical
// form writes condition numbers and booleans as strings, so Size can exceed
// the whitespace-free size of a hand-written document by a few bytes.
const (
	// BucketPolicyLimit is the Amazon S3 bucket policy limit of 20 KB.
	// S3 measures the policy after removing whitespace outside strings.
	BucketPolicyLimit = 20480

	// KeyPolicyLimit is the AWS KMS key policy limit of 32 KB
	// (32,768 bytes), measured on the document as sent.
	KeyPolicyLimit = 32768

	// TrustPolicyLimit is the IAM role trust policy limit: 2,048
	// characters with whitespace not counted. It is a default quota
	// ("Role trust policy length") that can be raised through Service
	// Quotas. It counts characters while Size counts bytes, so it is exact
	// for ASCII and conservative otherwise.
	TrustPolicyLimit = 2048
)

// Size is the length in bytes of the compact canonical form of d.
func Size(d *Document) int {
	return len(Compact(d))
}
