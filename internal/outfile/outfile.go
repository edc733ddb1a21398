// Package outfile writes export files that appear whole or not at all: each
// file is written under a temporary name in its folder, hashed (SHA-256) and
// counted as it goes, synced and renamed to its name at the end; a manifest
// listing the files with their rows, bytes and hashes is written the same way,
// last. The batch offer files and the CRM feed files both use it; what goes in
// a row is theirs.
package outfile

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

	"github.com/perk-platform/perk/internal/tabular"
)

// Format is an export file's format.
type Format string

// Formats.
const (
	CSV   Format = "csv"
	JSONL Format = "jsonl"
)

// Info describes one finished file, as a manifest lists it.
type Info struct {
	Name   string `json:"name"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Row is what a file holds a line of: its CSV fields (in the order of the
// file's header) and, for JSON Lines, the value itself is encoded.
type Row interface {
	CSV() []string
}

// File is an export file being written under a temporary name, hashed and
// counted as it goes, renamed to its name by Finish.
type File struct {
	f           *os.File
	name, final string
	h           hash.Hash
	bw          *bufio.Writer
	s           *Stream
	bytes       int64
	done        bool
}

// Stream writes rows to a writer as CSV (the header first) or JSON Lines,
// counting them: a File's content, or an API answer.
type Stream struct {
	w    io.Writer
	cw   *csv.Writer
	enc  *json.Encoder
	rows int64
	err  error // writing the header
}

// NewStream starts a stream of rows in format f on w; a CSV stream starts
// with header.
func NewStream(w io.Writer, f Format, header []string) *Stream {
	if f != CSV {
		return &Stream{w: w, enc: json.NewEncoder(w)}
	}
	s := &Stream{w: w, cw: csv.NewWriter(w)}
	s.err = s.cw.Write(header)
	return s
}

// Write adds one row.
func (s *Stream) Write(r Row) error {
	if s.err != nil {
		return s.err
	}
	s.rows++
	if s.enc != nil {
		return s.enc.Encode(r)
	}
	return s.cw.Write(tabular.DefuseAll(r.CSV())) // files for people's spreadsheets too; JSON Lines is for machines
}

// WriteRows adds n rows already encoded in the stream's format (whole
// lines), for a writer that encodes faster than row by row; what Write
// buffered goes first.
func (s *Stream) WriteRows(p []byte, n int64) error {
	if err := s.Flush(); err != nil {
		return err
	}
	s.rows += n
	_, err := s.w.Write(p)
	return err
}

// Rows is how many rows were written.
func (s *Stream) Rows() int64 { return s.rows }

// Flush writes what a CSV writer buffers; JSON rows are written at once.
func (s *Stream) Flush() error {
	if s.err != nil {
		return s.err
	}
	if s.cw != nil {
		s.cw.Flush()
		return s.cw.Error()
	}
	return nil
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

// Create starts dir/base.FORMAT under a temporary name (a dot file the
// reader of the folder ignores); a CSV file starts with header.
func Create(dir, base string, f Format, header []string) (*File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	name := base + "." + string(f)
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	o := &File{f: tmp, name: name, final: filepath.Join(dir, name), h: sha256.New()}
	o.bw = bufio.NewWriterSize(countWriter{io.MultiWriter(tmp, o.h), &o.bytes}, 64<<10)
	o.s = NewStream(o.bw, f, header)
	return o, nil
}

// Write adds one row.
func (o *File) Write(r Row) error { return o.s.Write(r) }

// WriteRows adds n rows already encoded (see Stream.WriteRows).
func (o *File) WriteRows(p []byte, n int64) error { return o.s.WriteRows(p, n) }

// Finish flushes, syncs and renames the file to its name.
func (o *File) Finish() (Info, error) {
	if err := o.s.Flush(); err != nil {
		return Info{}, err
	}
	if err := o.bw.Flush(); err != nil {
		return Info{}, fmt.Errorf("export: %w", err)
	}
	if err := o.f.Sync(); err != nil {
		return Info{}, fmt.Errorf("export: %w", err)
	}
	if err := o.f.Close(); err != nil {
		return Info{}, fmt.Errorf("export: %w", err)
	}
	if err := os.Rename(o.f.Name(), o.final); err != nil {
		return Info{}, fmt.Errorf("export: %w", err)
	}
	o.done = true
	return Info{Name: o.name, Rows: o.s.Rows(), Bytes: o.bytes, SHA256: hex.EncodeToString(o.h.Sum(nil))}, nil
}

// Abort removes an unfinished file; after Finish it does nothing, so it can
// be deferred.
func (o *File) Abort() {
	if !o.done {
		o.f.Close()
		os.Remove(o.f.Name())
	}
}

// WriteManifest writes v as indented JSON to dir/name atomically.
func WriteManifest(dir, name string, v any) error {
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
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("export: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}
