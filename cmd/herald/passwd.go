package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/herald-mqtt/herald/internal/auth"
)

// passwd prints a password hash and salt for authentication.users.
func passwd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("herald passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	alg := fs.String("algorithm", "bcrypt", "bcrypt | pbkdf2 | sha256 | sha512 | plain")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: herald passwd [-algorithm bcrypt] PASSWORD")
		return 2
	}
	hash, salt, err := auth.HashPassword(*alg, fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "herald passwd:", err)
		return 1
	}
	fmt.Fprintf(stdout, "algorithm = %q\npassword_hash = %q\nsalt = %q\n", *alg, hash, salt)
	return 0
}
