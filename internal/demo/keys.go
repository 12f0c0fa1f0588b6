package demo

import (
	"crypto/rsa"
	"fmt"
	"math/big"
	"math/rand/v2"
	"sync"
)

// signingKey derives a 2048-bit RSA key from the seed. Go's key generation
// ignores caller-supplied randomness, so the demo draws its own primes from
// a seeded ChaCha8 stream: the same seed gives the same key and therefore
// the same signed digests. The key signs synthetic digests only.
func signingKey(seed uint64, index int) (*rsa.PrivateKey, error) {
	id := [2]uint64{seed, uint64(index)}
	if k, ok := keyCache.Load(id); ok {
		return k.(*rsa.PrivateKey), nil
	}
	k, err := deriveKey(seed, index)
	if err == nil {
		keyCache.Store(id, k)
	}
	return k, err
}

// keyCache keeps derived keys: deriving one costs a prime search, and a
// process (a test binary above all) asks for the same seed many times.
var keyCache sync.Map

func deriveKey(seed uint64, index int) (*rsa.PrivateKey, error) {
	var s [32]byte
	for i := 0; i < 8; i++ {
		s[i] = byte(seed >> (8 * i))
	}
	s[8] = byte(index)
	copy(s[9:], "trailwarden-demo-key")
	r := rand.NewChaCha8(s)
	e := big.NewInt(65537)
	one := big.NewInt(1)
	for attempt := 0; attempt < 16; attempt++ {
		p := prime(r, 1024)
		q := prime(r, 1024)
		if p.Cmp(q) == 0 {
			continue
		}
		pm1 := new(big.Int).Sub(p, one)
		qm1 := new(big.Int).Sub(q, one)
		phi := new(big.Int).Mul(pm1, qm1)
		d := new(big.Int).ModInverse(e, phi)
		if d == nil {
			continue
		}
		k := &rsa.PrivateKey{
			PublicKey: rsa.PublicKey{N: new(big.Int).Mul(p, q), E: 65537},
			D:         d,
			Primes:    []*big.Int{p, q},
		}
		if k.N.BitLen() != 2048 {
			continue
		}
		k.Precompute()
		if err := k.Validate(); err != nil {
			continue
		}
		return k, nil
	}
	return nil, fmt.Errorf("demo: could not derive a signing key from seed %d", seed)
}

// prime draws odd candidates with the top two bits set (so p*q has exactly
// 2*bits bits) until one is probably prime.
func prime(r *rand.ChaCha8, bits int) *big.Int {
	buf := make([]byte, bits/8)
	for {
		_, _ = r.Read(buf)
		buf[0] |= 0xC0
		buf[len(buf)-1] |= 1
		p := new(big.Int).SetBytes(buf)
		if p.ProbablyPrime(20) {
			return p
		}
	}
}
