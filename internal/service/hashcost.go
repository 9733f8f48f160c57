//go:build !race

package service

import "golang.org/x/crypto/bcrypt"

// bcryptCost is the work factor of dashboard password hashes.
const bcryptCost = bcrypt.DefaultCost
