package auth

import (
	"strings"
	"testing"
)

func TestPasswordHash_VerifiesRightRefusesWrong(t *testing.T) {
	phc := hashPassword("correct horse battery", currentParams)
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash = %s, want OWASP's argon2id minimum", phc)
	}
	if ok, err := verifyPassword(phc, "correct horse battery"); !ok || err != nil {
		t.Fatalf("right password: %v, %v", ok, err)
	}
	for _, wrong := range []string{"", "correct horse batter", "Correct horse battery", "correct horse battery "} {
		if ok, err := verifyPassword(phc, wrong); ok || err != nil {
			t.Errorf("verify(%q) = %v, %v", wrong, ok, err)
		}
	}
	if phc == hashPassword("correct horse battery", currentParams) {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	if needsRehash(phc) {
		t.Fatal("a current hash needs rehashing")
	}
}

// A hash made with other parameters still verifies (they are read from the
// string), and one weaker than today's is flagged for rehashing.
func TestPasswordHash_OlderParametersVerifyAndAskForRehash(t *testing.T) {
	weak := argonParams{memory: 8 * 1024, time: 1, threads: 1, keyLen: 16}
	phc := hashPassword("an older password", weak)
	if !strings.Contains(phc, "$m=8192,t=1,p=1$") {
		t.Fatalf("hash = %s", phc)
	}
	if ok, err := verifyPassword(phc, "an older password"); !ok || err != nil {
		t.Fatalf("old hash: %v, %v", ok, err)
	}
	if !needsRehash(phc) {
		t.Fatal("a weaker hash is not flagged for rehashing")
	}
	stronger := argonParams{memory: 32 * 1024, time: 3, threads: 1, keyLen: 32}
	if phc := hashPassword("x", stronger); needsRehash(phc) {
		t.Fatal("a stronger hash would be downgraded")
	}
}

func TestPasswordHash_UnreadableHashesAreRefused(t *testing.T) {
	good := hashPassword("some password here", currentParams)
	parts := strings.Split(good, "$")
	bad := []string{
		"",
		"plaintext",
		"$2a$12$abcdefghijklmnopqrstuuN1vGNvQvQ8xA2D0xV8TzHqgS3j0G7vW", // bcrypt: not read
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "m=19456", "m=99999999", 1), // would allocate ~95 GiB
		strings.Replace(good, "t=2", "t=0", 1),
		strings.Replace(good, "p=1", "p=0", 1),
		strings.Replace(good, ",p=1", "", 1),
		strings.Replace(good, "m=19456", "m=19456,x=1", 1),
		"$argon2id$v=19$m=19456,t=2,p=1$" + parts[4] + "$",
		"$argon2id$v=19$m=19456,t=2,p=1$!!!$" + parts[5],
		good + "$extra",
	}
	for _, b := range bad {
		if ok, err := verifyPassword(b, "some password here"); ok || err == nil {
			t.Errorf("verify(%q) = %v, %v; want an error", b, ok, err)
		}
		if !needsRehash(b) {
			t.Errorf("needsRehash(%q) = false", b)
		}
	}
}

func TestTruncate_KeepsWholeCharacters(t *testing.T) {
	if got := truncate("aé", 2); got != "a" {
		t.Fatalf("truncate = %q", got)
	}
	if got := truncate("abc\xff", 10); got != "abc" {
		t.Fatalf("truncate = %q", got)
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		hashPassword("correct horse battery", currentParams)
	}
}
