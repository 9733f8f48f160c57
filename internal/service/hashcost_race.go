//go:build race

package service

import "golang.org/x/crypto/bcrypt"

// bcryptCost is the work factor of dashboard password hashes. Under the
// race detector (test builds only) bcrypt runs about 20 times slower, so
// those builds use the minimum cost; a hash records its cost, so either
// build verifies the other's hashes.
const bcryptCost = bcrypt.MinCost
