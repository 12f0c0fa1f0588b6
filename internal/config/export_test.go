package config

// WithoutSource is c without where it was parsed from, for comparing a
// parsed config with one built in code.
func WithoutSource(c Config) Config {
	c.source = nil
	return c
}
