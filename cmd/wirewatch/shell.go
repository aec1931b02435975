package main

import "strings"

// tryAgain is the `wirewatch try` command line that tries alt (a feed an
// HTML page advertises) the way the user tried the page: the same flags
// (args without its sources), quoted for a POSIX shell, so it can be
// pasted as it is.
func tryAgain(args, sources []string, alt string) string {
	words := []string{"wirewatch", "try"}
	for _, a := range args[:len(args)-len(sources)] {
		words = append(words, shellQuote(a))
	}
	return strings.Join(append(words, shellQuote(alt)), " ")
}

// shellQuote returns s as one word for a POSIX shell: as it is when it
// has only characters no shell treats specially, else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
