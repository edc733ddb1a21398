package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// importStores adds stores (in UTC) through perk catalogue import, as an
// operator would before creating the tills' keys.
func importStores(t *testing.T, env []string, dir string, ids ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,name,timezone\n")
	for _, id := range ids {
		b.WriteString(id + ",Store " + id + ",UTC\n")
	}
	path := filepath.Join(dir, "stores.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := perk(t, env, "catalogue", "import", path); err != nil {
		t.Fatalf("catalogue import: %v\n%s", err, stderr)
	}
}

func TestCatalogueImport_ErrorsFileAndReimport(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			env := []string{"PERK_DB=" + dsn(t), "PERK_DATA_DIR=" + dir, "PERK_LOG_LEVEL=warn"}
			path := filepath.Join(dir, "products.csv")
			os.WriteFile(path, []byte("sku,name,categories,unit,price\nA,Apple,fresh/fruit,,0.40\nB,Bad,,bushel,1\nC,Cheese,dairy/cheese,kg,18.99\n"), 0o644)
			_, stderr, err := perk(t, env, "catalogue", "import", path)
			if err != nil || !strings.Contains(stderr, "3 rows") || !strings.Contains(stderr, "2 created, 0 updated, 0 unchanged, 1 rejected") {
				t.Fatalf("import: %v\n%s", err, stderr)
			}
			errs, _ := os.ReadFile(path + ".errors.csv")
			if !strings.Contains(string(errs), "3,unit,") {
				t.Fatalf("errors file:\n%s", errs)
			}
			_, stderr, err = perk(t, env, "catalogue", "import", path)
			if err != nil || !strings.Contains(stderr, "0 created, 0 updated, 2 unchanged, 1 rejected") {
				t.Fatalf("re-import: %v\n%s", err, stderr)
			}
			// Stores are checked once the catalogue lists one (catalogue.TradingStore).
			importStores(t, env, dir, "S001")
			if _, stderr, err := perk(t, env, "keys", "create", "--role", "pos", "--store", "S404"); err == nil || !strings.Contains(stderr, "no such store") {
				t.Fatalf("a key for an unknown store: %v\n%s", err, stderr)
			}
			importStores(t, env, dir, "S404")
			if _, stderr, err := perk(t, env, "keys", "create", "--role", "pos", "--store", "S404"); err != nil {
				t.Fatalf("a key for a known store: %v\n%s", err, stderr)
			}
		})
	}
}
