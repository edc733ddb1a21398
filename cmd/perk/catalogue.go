package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/tabular"
)

const catalogueUsage = "usage: perk catalogue import [--kind products|stores] [--errors FILE] FILE"

// cmdCatalogue imports products or stores from a CSV/TSV file, with the
// member import's errors file and progress.
func cmdCatalogue(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprintln(os.Stderr, catalogueUsage)
		return errUsage
	}
	var c Config
	var kind, errorsPath string
	var batch int
	fs := flag.NewFlagSet("perk catalogue import", flag.ContinueOnError)
	commonFlags(fs, &c)
	loyaltyFlags(fs, &c) // the currency prices are written in
	fs.StringVar(&kind, "kind", "", "products or stores (default: stores if the file name starts with \"store\", else products)")
	fs.StringVar(&errorsPath, "errors", "", "where to write rejected rows as CSV (default FILE.errors.csv)")
	fs.IntVar(&batch, "batch", 1000, "rows per database transaction")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, catalogueUsage)
		return errUsage
	}
	path := fs.Arg(0)
	if kind == "" {
		kind = "products"
		if strings.HasPrefix(strings.ToLower(filepath.Base(path)), "store") {
			kind = "stores"
		}
	}
	if kind != "products" && kind != "stores" {
		return fmt.Errorf("--kind %q: products or stores", kind)
	}
	cur, err := c.Loyalty.currency()
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if errorsPath == "" {
		errorsPath = path + ".errors.csv"
	}
	db, log, err := setup(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	ef, err := os.Create(errorsPath)
	if err != nil {
		return err
	}
	defer ef.Close()
	ew := tabular.NewErrorWriter(ef)
	counter := &countingReader{r: f}
	prog := newProgress(os.Stderr, info.Size(), counter)
	cat := catalogue.New(db, catalogue.Options{Currency: cur.Code, Log: log})
	opt := catalogue.ImportOptions{BatchSize: batch, Currency: cur, OnError: ew.Write, OnProgress: func(st catalogue.ImportStats) {
		prog.update(member.ImportStats{Rows: st.Rows, Created: st.Created, Updated: st.Updated, Unchanged: st.Unchanged, Rejected: st.Rejected})
	}}
	start := time.Now()
	var st catalogue.ImportStats
	if kind == "stores" {
		st, err = cat.ImportStores(ctx, counter, opt)
	} else {
		st, err = cat.ImportProducts(ctx, counter, opt)
	}
	prog.done()
	if ferr := ew.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "import %s: %d rows in %s: %d created, %d updated, %d unchanged, %d rejected\n",
		kind, st.Rows, time.Since(start).Round(time.Millisecond), st.Created, st.Updated, st.Unchanged, st.Rejected)
	if st.Rejected > 0 {
		fmt.Fprintf(os.Stderr, "rejected rows are listed in %s\n", errorsPath)
	} else {
		ef.Close()
		os.Remove(errorsPath)
	}
	return nil
}
