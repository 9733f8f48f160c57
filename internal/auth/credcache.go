package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
)

// credKey identifies a verified (username, password) pair without revealing
// either: HMAC-SHA256 under the cache's random secret.
type credKey [sha256.Size]byte

// credCache remembers successful verifications of slow password hashes so
// that reconnect storms do not recompute bcrypt/pbkdf2 for every client. It
// is bounded: when full, an arbitrary entry (the first one map iteration
// yields) makes room.
type credCache struct {
	secret [32]byte
	max    int

	mu  sync.RWMutex
	set map[credKey]struct{}
}

// newCredCache returns a cache of size entries (0: default), or nil when
// size is negative.
func newCredCache(size int) *credCache {
	if size < 0 {
		return nil
	}
	if size == 0 {
		size = DefaultCredentialCacheSize
	}
	c := &credCache{max: size, set: make(map[credKey]struct{})}
	_, _ = rand.Read(c.secret[:]) // never fails since Go 1.24
	return c
}

// key is HMAC(secret, uvarint(len(username)) || username || password): the
// length prefix keeps ("ab","c") and ("a","bc") apart.
func (c *credCache) key(username string, password []byte) credKey {
	m := hmac.New(sha256.New, c.secret[:])
	m.Write(binary.AppendUvarint(nil, uint64(len(username))))
	m.Write([]byte(username))
	m.Write(password)
	var k credKey
	m.Sum(k[:0])
	return k
}

func (c *credCache) has(k credKey) bool {
	c.mu.RLock()
	_, ok := c.set[k]
	c.mu.RUnlock()
	return ok
}

func (c *credCache) add(k credKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.set[k]; ok {
		return
	}
	for old := range c.set {
		if len(c.set) < c.max {
			break
		}
		delete(c.set, old)
	}
	c.set[k] = struct{}{}
}

// len reports the number of cached verifications.
func (c *credCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.set)
}
