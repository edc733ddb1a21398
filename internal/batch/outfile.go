package batch

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// outFile is an export file being written under a temporary name, hashed
// and counted as it goes, renamed to its name by finish.
type outFile struct {
	f           *os.File
	name, final string
	h           hash.Hash
	bw          *bufio.Writer
	cw          *csv.Writer
	enc         *json.Encoder
	rows, bytes int64
	done        bool
}

// countWriter counts what passes to the hash and the file.
type countWriter struct {
	w io.Writer
	n *int64
}

func (c countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	*c.n += int64(n)
	return n, err
}

func createOut(dir, base string, f Format) (*outFile, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	name := base + "." + string(f)
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	o := &outFile{f: tmp, name: name, final: filepath.Join(dir, name), h: sha256.New()}
	o.bw = bufio.NewWriterSize(countWriter{io.MultiWriter(tmp, o.h), &o.bytes}, 64<<10)
	if f == CSV {
		o.cw = csv.NewWriter(o.bw)
		if err := o.cw.Write(OfferColumns); err != nil {
			return nil, err
		}
	} else {
		o.enc = json.NewEncoder(o.bw)
	}
	return o, nil
}

func (o *outFile) write(off *Offer) error {
	o.rows++
	if o.enc != nil {
		return o.enc.Encode(off)
	}
	return o.cw.Write(off.csv())
}

// finish flushes, syncs and renames the file to its name.
func (o *outFile) finish() (ExportFile, error) {
	if o.cw != nil {
		o.cw.Flush()
		if err := o.cw.Error(); err != nil {
			return ExportFile{}, err
		}
	}
	if err := o.bw.Flush(); err != nil {
		return ExportFile{}, fmt.Errorf("export: %w", err)
	}
	if err := o.f.Sync(); err != nil {
		return ExportFile{}, fmt.Errorf("export: %w", err)
	}
	if err := o.f.Close(); err != nil {
		return ExportFile{}, fmt.Errorf("export: %w", err)
	}
	if err := os.Rename(o.f.Name(), o.final); err != nil {
		return ExportFile{}, fmt.Errorf("export: %w", err)
	}
	o.done = true
	return ExportFile{Name: o.name, Rows: o.rows, Bytes: o.bytes, SHA256: hex.EncodeToString(o.h.Sum(nil))}, nil
}

// abort removes an unfinished file; after finish it does nothing.
func (o *outFile) abort() {
	if !o.done {
		o.f.Close()
		os.Remove(o.f.Name())
	}
}

// writeManifest writes v as JSON to dir/name atomically.
func writeManifest(dir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("export: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}
