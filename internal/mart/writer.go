package mart

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"

	"github.com/parquet-go/parquet-go"
)

// Formats an export can write.
const (
	CSV     = "csv"
	Parquet = "parquet"
)

// tableWriter streams the rows of one table into its file.
type tableWriter interface {
	Write(Row) error
	// Close finishes the file and gives it its final name.
	Close() error
	// Abort removes the unfinished file; harmless after Close.
	Abort()
	Info() TableInfo
}

// atomicFile is a file written under a temporary name in its final folder
// and renamed when complete, so a crashed export never leaves a half file
// under a name that looks finished. It counts and hashes what it writes.
type atomicFile struct {
	f     *os.File
	buf   *bufio.Writer
	hash  hash.Hash
	bytes int64
	final string
	done  bool
}

func createAtomic(dir, name string) (*atomicFile, error) {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return nil, err
	}
	a := &atomicFile{f: f, hash: sha256.New(), final: filepath.Join(dir, name)}
	a.buf = bufio.NewWriterSize(f, 256<<10)
	return a, nil
}

func (a *atomicFile) Write(p []byte) (int, error) {
	n, err := a.buf.Write(p)
	a.hash.Write(p[:n])
	a.bytes += int64(n)
	return n, err
}

func (a *atomicFile) commit() error {
	if err := a.buf.Flush(); err != nil {
		return err
	}
	if err := a.f.Chmod(0o644); err != nil {
		return err
	}
	if err := a.f.Sync(); err != nil {
		return err
	}
	if err := a.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(a.f.Name(), a.final); err != nil {
		return err
	}
	a.done = true
	return nil
}

func (a *atomicFile) abort() {
	if a.done {
		return
	}
	a.f.Close()
	os.Remove(a.f.Name())
}

func (a *atomicFile) info(t Table, rows int64) TableInfo {
	return TableInfo{Name: t.Name, File: filepath.Base(a.final), Fact: t.Fact, Rows: rows, Bytes: a.bytes,
		SHA256: hex.EncodeToString(a.hash.Sum(nil))}
}

// newWriter opens the writer for t in dir.
func newWriter(dir string, t Table, format string) (tableWriter, error) {
	a, err := createAtomic(dir, t.Name+"."+format)
	if err != nil {
		return nil, err
	}
	if format == Parquet {
		return newParquetWriter(a, t), nil
	}
	w := &csvWriter{a: a, t: t, w: csv.NewWriter(a), rec: make([]string, len(t.Columns))}
	for i, c := range t.Columns {
		w.rec[i] = c.Name
	}
	if err := w.w.Write(w.rec); err != nil {
		a.abort()
		return nil, err
	}
	return w, nil
}

// csvWriter writes RFC 4180 CSV with a header row.
type csvWriter struct {
	a    *atomicFile
	t    Table
	w    *csv.Writer
	rec  []string
	rows int64
}

func (w *csvWriter) Write(r Row) error {
	for i, c := range w.t.Columns {
		w.rec[i] = r[i].text(c.Kind)
	}
	w.rows++
	return w.w.Write(w.rec)
}

func (w *csvWriter) Close() error {
	w.w.Flush()
	if err := w.w.Error(); err != nil {
		return err
	}
	return w.a.commit()
}

func (w *csvWriter) Abort()          { w.a.abort() }
func (w *csvWriter) Info() TableInfo { return w.a.info(w.t, w.rows) }

// parquetSchema builds the parquet schema of t with the columns in the
// table's order (a parquet.Group would sort them by name).
func parquetSchema(t Table) *parquet.Schema {
	fields := make([]reflect.StructField, len(t.Columns))
	for i, c := range t.Columns {
		typ, tag := reflect.TypeFor[string](), ""
		switch c.Kind {
		case Int:
			typ = reflect.TypeFor[int64]()
		case Time:
			typ, tag = reflect.TypeFor[int64](), ",timestamp(microsecond:utc)"
		case Date:
			typ, tag = reflect.TypeFor[int32](), ",date"
		case Bool:
			typ = reflect.TypeFor[bool]()
		}
		fields[i] = reflect.StructField{Name: "F" + strconv.Itoa(i), Type: typ,
			Tag: reflect.StructTag(`parquet:"` + c.Name + `,optional` + tag + `"`)}
	}
	return parquet.NewSchema(t.Name, parquet.SchemaOf(reflect.New(reflect.StructOf(fields)).Interface()))
}

// parquetBatch is how many rows are handed to the parquet writer at once.
const parquetBatch = 512

// parquetWriter writes one parquet file, Snappy-compressed, in row groups of
// at most 128k rows so memory stays bounded whatever the table's size.
type parquetWriter struct {
	a     *atomicFile
	t     Table
	w     *parquet.Writer
	batch []parquet.Row
	rows  int64
}

func newParquetWriter(a *atomicFile, t Table) *parquetWriter {
	w := parquet.NewWriter(a, parquetSchema(t), parquet.Compression(&parquet.Snappy),
		parquet.MaxRowsPerRowGroup(128<<10), parquet.CreatedBy("perk", "", ""))
	return &parquetWriter{a: a, t: t, w: w, batch: make([]parquet.Row, 0, parquetBatch)}
}

func (w *parquetWriter) Write(r Row) error {
	i := len(w.batch)
	w.batch = w.batch[:i+1]
	row := w.batch[i][:0]
	for j, c := range w.t.Columns {
		v := r[j]
		if !v.Valid {
			row = append(row, parquet.NullValue().Level(0, 0, j))
			continue
		}
		var pv parquet.Value
		switch c.Kind {
		case String:
			pv = parquet.ByteArrayValue([]byte(v.S))
		case Int:
			pv = parquet.Int64Value(v.N)
		case Time:
			pv = parquet.Int64Value(v.T.UnixMicro())
		case Date:
			pv = parquet.Int32Value(int32(v.T.Unix() / 86400))
		case Bool:
			pv = parquet.BooleanValue(v.N != 0)
		}
		row = append(row, pv.Level(0, 1, j))
	}
	w.batch[i] = row
	w.rows++
	if len(w.batch) == parquetBatch {
		return w.flush()
	}
	return nil
}

func (w *parquetWriter) flush() error {
	_, err := w.w.WriteRows(w.batch)
	w.batch = w.batch[:0]
	return err
}

func (w *parquetWriter) Close() error {
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.w.Close(); err != nil {
		return err
	}
	return w.a.commit()
}

func (w *parquetWriter) Abort()          { w.a.abort() }
func (w *parquetWriter) Info() TableInfo { return w.a.info(w.t, w.rows) }

var _ io.Writer = (*atomicFile)(nil)

// errf wraps err with the table it concerns.
func errf(t Table, err error) error { return fmt.Errorf("mart: %s: %w", t.Name, err) }
