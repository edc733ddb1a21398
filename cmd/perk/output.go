package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
)

// outputFlag registers -o and --output on a list command. The table is for
// people; json is for scripts, and its fields are the API's names, so a
// script written against one works against the other.
func outputFlag(fs *flag.FlagSet, output *string, formats ...string) {
	usage := "output: " + strings.Join(formats, " or ")
	fs.StringVar(output, "o", formats[0], usage)
	fs.StringVar(output, "output", formats[0], "same as -o")
}

// checkOutput refuses a format the command does not write, naming the ones
// it does, before anything is opened or printed.
func checkOutput(cmd, output string, formats ...string) error {
	if slices.Contains(formats, output) {
		return nil
	}
	fmt.Fprintf(os.Stderr, "perk %s: -o %s: want %s\n", cmd, output, strings.Join(formats, ", "))
	return errUsage
}

// nonNil makes an empty list print as [] rather than null, which a script
// would have to special-case.
func nonNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
