// Package repocheck holds tests that keep the repository's shape: no
// hand-written source file too long to read, and no function too long to
// hold in one's head. It has no code of its own.
package repocheck
