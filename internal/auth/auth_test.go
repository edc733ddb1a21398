package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func TestKeys_CreateAuthenticateRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := auth.NewService(db, nil)
		secret, k, err := s.Create(ctx, auth.RolePOS, "S001", "till 1")
		if err != nil {
			t.Fatal(err)
		}
		var stored int
		db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_keys WHERE secret_hash LIKE $1`, "%"+secret[len(secret)-10:]+"%").Scan(&stored)
		if stored != 0 {
			t.Fatal("the secret is stored in clear")
		}
		got, err := s.Authenticate(ctx, secret)
		if err != nil || got.ID != k.ID || got.Role != auth.RolePOS || got.Store != "S001" {
			t.Fatalf("Authenticate = %+v, %v", got, err)
		}
		bad := []string{"", "perk_", "perk_" + k.ID + "_", secret + "x", strings.Replace(secret, k.ID, "nope", 1), "Bearer " + secret}
		for _, b := range bad {
			if _, err := s.Authenticate(ctx, b); !errors.Is(err, auth.ErrUnauthorized) {
				t.Errorf("Authenticate(%q) = %v, want ErrUnauthorized", b, err)
			}
		}
		if err := s.Revoke(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, secret); !errors.Is(err, auth.ErrUnauthorized) {
			t.Fatalf("revoked key still works: %v", err)
		}
		keys, _ := s.List(ctx)
		if len(keys) != 1 || keys[0].RevokedAt == nil {
			t.Fatalf("List = %+v", keys)
		}
	})
}

func TestCreate_POSKeyNeedsAStore(t *testing.T) {
	s := auth.NewService(storetest.SQLite(t), nil)
	if _, _, err := s.Create(context.Background(), auth.RolePOS, "", ""); err == nil {
		t.Fatal("pos key without a store was created")
	}
	if _, _, err := s.Create(context.Background(), auth.Role("root"), "", ""); err == nil {
		t.Fatal("unknown role accepted")
	}
}

func TestRoles_Permissions(t *testing.T) {
	tests := []struct {
		role auth.Role
		perm auth.Permission
		want bool
	}{
		{auth.RoleAdmin, auth.MembersErase, true},
		{auth.RoleManager, auth.MembersErase, false},
		{auth.RoleManager, auth.MembersWrite, true},
		{auth.RolePOS, auth.MembersEnrol, true},
		{auth.RolePOS, auth.MembersRead, false},
		{auth.RoleReporting, auth.MembersRead, true},
		{auth.RoleReporting, auth.MembersWrite, false},
		{auth.RoleIngest, auth.EventsWrite, true},
		{auth.RoleIngest, auth.MembersRead, false},
		{auth.RoleIngest, auth.MembersEnrol, false},
		{auth.RoleIngest, auth.Checkout, false},
		{auth.RolePOS, auth.EventsWrite, true},
		{auth.RoleReporting, auth.EventsWrite, false},
	}
	for _, tt := range tests {
		if got := tt.role.Allows(tt.perm); got != tt.want {
			t.Errorf("%s allows %s = %v, want %v", tt.role, tt.perm, got, tt.want)
		}
	}
}
