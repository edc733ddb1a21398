package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
)

// maxUpload bounds an uploaded member file; a million rows is about 100 MB.
const maxUpload = 512 << 20

// uploadImport accepts a member file, either as the raw body (text/csv) or
// as the "file" part of a multipart form, stores it and starts the import.
// It answers 202 with the job; GET /v1/imports/{id} follows it.
func (s *Server) uploadImport(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	welcome, err := queryBool(r, "welcome", true)
	if err != nil {
		return err
	}
	updatePhones, err := queryBool(r, "update_phones", false)
	if err != nil {
		return err
	}
	up, err := s.receiveUpload(w, r, "import-*.csv")
	if err != nil {
		return err
	}
	job, err := s.jobs.Start(s.ctx, up.path, up.filename,
		member.ImportOptions{Source: up.source, NoWelcome: !welcome, UpdatePhones: updatePhones})
	if err != nil {
		os.Remove(up.path)
		return err
	}
	w.Header().Set("Location", "/v1/imports/"+job.ID)
	writeJSON(w, http.StatusAccepted, job)
	return nil
}

// upload is a file received into the upload folder.
type upload struct {
	path, filename, source string
}

// receiveUpload stores an uploaded file, sent either as the raw body or as
// the "file" part of a multipart form (with an optional "source" part), in
// the upload folder under a name made from pattern.
func (s *Server) receiveUpload(w http.ResponseWriter, r *http.Request, pattern string) (*upload, error) {
	source := r.URL.Query().Get("source")
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	var body io.Reader = r.Body
	filename := r.URL.Query().Get("filename")
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, badJSON("file", "malformed multipart body: "+err.Error())
		}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				return nil, badJSON("file", `multipart body has no "file" part`)
			}
			if err != nil {
				return nil, badJSON("file", "malformed multipart body: "+err.Error())
			}
			if part.FormName() == "source" {
				b, _ := io.ReadAll(io.LimitReader(part, 200))
				source = string(b)
				continue
			}
			if part.FormName() == "file" {
				body, filename = part, part.FileName()
				break
			}
		}
	}
	if err := os.MkdirAll(s.opt.UploadDir, 0o700); err != nil {
		return nil, fmt.Errorf("upload dir: %w", err)
	}
	f, err := os.CreateTemp(s.opt.UploadDir, pattern)
	if err != nil {
		return nil, fmt.Errorf("store upload: %w", err)
	}
	n, err := io.Copy(f, body)
	f.Close()
	if err != nil {
		os.Remove(f.Name())
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &problem.Error{Kind: problem.TooLarge, Code: "file_too_large", Field: "file", Message: fmt.Sprintf("file is over %d MB", maxUpload>>20)}
		}
		return nil, badJSON("file", "upload interrupted: "+err.Error())
	}
	if n == 0 {
		os.Remove(f.Name())
		return nil, problem.InvalidField("file", "file_empty", nil, "the file is empty")
	}
	return &upload{path: f.Name(), filename: filepath.Base(filename), source: source}, nil
}

func (s *Server) importStatus(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	job, err := s.jobs.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, job)
	return nil
}

// importCancel stops an uploaded file's import; the rows it committed stay.
func (s *Server) importCancel(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	job, err := s.jobs.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, job)
	return nil
}

func (s *Server) importErrors(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	id := r.PathValue("id")
	if _, err := s.jobs.Get(r.Context(), id); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+`-errors.csv"`)
	return s.jobs.WriteErrors(r.Context(), id, w)
}

// queryBool reads a true/false query parameter, def when it is absent.
func queryBool(r *http.Request, name string, def bool) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, problem.InvalidField(name, "not_a_boolean", nil, "must be true or false, not %q", v)
	}
	return b, nil
}
