// Package composecheck holds no code: its test loads docker-compose.yml
// with compose-go and checks it against the programs, so that the file
// cannot drift from the code (no Docker engine runs on the build machines).
package composecheck
