package record

// MaxDepth exposes maxDepth to the package's external tests.
const MaxDepth = maxDepth
