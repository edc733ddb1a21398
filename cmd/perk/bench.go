package main

import (
	"context"
	"fmt"
	"os"
)

func cmdBench(ctx context.Context, args []string) error {
	fmt.Fprintln(os.Stderr, "usage: perk bench gen-members|http [flags]")
	return errUsage
}
