package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// hashPassword prints the bcrypt hash of the password on the first line of
// stdin, for the password_hash of an admin account. The password is read
// from stdin rather than an argument, so it stays out of the shell history
// and the process list.
func hashPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hash-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: foyer hash-password < FILE\n\nReads a password from the first line of standard input and prints its bcrypt hash, for password_hash in admin_accounts.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New("hash-password: unexpected argument: give the password on standard input, not as an argument")
	}

	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("hash-password: read standard input: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if len(password) < minAdminPassword || len(password) > maxAdminPassword {
		return fmt.Errorf("hash-password: the password is %d bytes long: use %d to %d", len(password), minAdminPassword, maxAdminPassword)
	}

	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hash-password: %w", err)
	}
	fmt.Fprintln(stdout, string(hash))
	return nil
}
