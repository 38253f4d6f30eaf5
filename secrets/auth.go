package secrets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/hashicorp/vault/api"
)

// Auth is a way to log in to Vault: TokenAuth, AppRoleAuth or
// KubernetesAuth. The interface is sealed.
type Auth interface {
	login(ctx context.Context, c *api.Client) (*api.Secret, error)
	name() string
}

type tokenAuth struct{ token Value }

// TokenAuth uses a token as it is. Login checks it (lookup-self), so a bad
// token fails in New; a renewable token is renewed by Run.
func TokenAuth(token Value) Auth { return tokenAuth{token} }

func (a tokenAuth) name() string { return "token" }

func (a tokenAuth) login(ctx context.Context, c *api.Client) (*api.Secret, error) {
	c.SetToken(a.token.Reveal())
	s, err := c.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return nil, err
	}
	// Shape it like a login answer so Run can renew it.
	renewable, _ := s.TokenIsRenewable()
	ttl, _ := s.TokenTTL()
	return &api.Secret{Auth: &api.SecretAuth{ClientToken: a.token.Reveal(), Renewable: renewable, LeaseDuration: int(ttl.Seconds())}}, nil
}

// SecretID says where an AppRole secret ID comes from.
type SecretID struct {
	value   Value
	file    string
	wrapped Value
}

// Format prints where the secret ID comes from, never the ID itself, nor
// (with verbs such as %s or %d) the fields fmt would print instead.
func (s SecretID) Format(f fmt.State, _ rune) {
	switch {
	case s.file != "":
		_, _ = fmt.Fprintf(f, "secrets.SecretID{file: %s}", s.file)
	case !s.wrapped.IsZero():
		_, _ = fmt.Fprint(f, "secrets.SecretID{wrapped: "+Redacted+"}")
	default:
		_, _ = fmt.Fprint(f, "secrets.SecretID{"+Redacted+"}")
	}
}

// SecretIDValue is a secret ID given directly.
func SecretIDValue(v Value) SecretID { return SecretID{value: v} }

// SecretIDFromFile reads the secret ID from a file at every login, so a
// deployment tool can replace it.
func SecretIDFromFile(path string) SecretID { return SecretID{file: path} }

// SecretIDWrapped unwraps a response-wrapped secret ID (a single-use
// wrapping token) at the first login.
func SecretIDWrapped(wrappingToken Value) SecretID { return SecretID{wrapped: wrappingToken} }

type appRoleAuth struct {
	mount    string
	roleID   string
	secretID SecretID

	// mu guards unwrapped, and makes concurrent first logins unwrap the
	// single-use wrapping token once.
	mu        sync.Mutex
	unwrapped *Value
}

// AppRoleAuth logs in with an AppRole role ID and secret ID at mount
// ("approle" when empty).
func AppRoleAuth(roleID string, secretID SecretID, mount string) Auth {
	if mount == "" {
		mount = "approle"
	}
	return &appRoleAuth{mount: mount, roleID: roleID, secretID: secretID}
}

func (a *appRoleAuth) name() string { return "approle" }

// Format prints the mount and where the secret ID comes from, not the
// role ID.
func (a *appRoleAuth) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "secrets.AppRoleAuth{mount: %s, secret id: %v}", a.mount, a.secretID)
}

var (
	_ fmt.Formatter = (*appRoleAuth)(nil)
	_ fmt.Formatter = SecretID{}
)

func (a *appRoleAuth) login(ctx context.Context, c *api.Client) (*api.Secret, error) {
	lc, err := loginClient(c)
	if err != nil {
		return nil, err
	}
	sid, err := a.secretIDFor(ctx, lc)
	if err != nil {
		return nil, err
	}
	lc.ClearToken() // the unwrap may have set the wrapping token
	s, err := lc.Logical().WriteWithContext(ctx, "auth/"+a.mount+"/login", map[string]any{"role_id": a.roleID, "secret_id": sid})
	if err != nil {
		return nil, err
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return nil, errors.New("approle login: no token in the answer")
	}
	c.SetToken(s.Auth.ClientToken)
	return s, nil
}

// secretIDFor returns the secret ID, unwrapping it with lc (a login client
// without a token) at the first call.
func (a *appRoleAuth) secretIDFor(ctx context.Context, lc *api.Client) (string, error) {
	switch {
	case !a.secretID.value.IsZero():
		return a.secretID.value.Reveal(), nil
	case a.secretID.file != "":
		b, err := os.ReadFile(a.secretID.file)
		if err != nil {
			return "", fmt.Errorf("read secret id: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	case a.secretID.wrapped.IsZero():
		return "", errors.New("approle: no secret id")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.unwrapped != nil {
		return a.unwrapped.Reveal(), nil
	}
	s, err := lc.Logical().UnwrapWithContext(ctx, a.secretID.wrapped.Reveal())
	if err != nil {
		return "", fmt.Errorf("unwrap secret id: %w", err)
	}
	var v string
	if s != nil {
		v, _ = s.Data["secret_id"].(string)
	}
	if v == "" {
		return "", errors.New("unwrap secret id: no secret_id in the wrapped answer")
	}
	w := NewValue(v)
	a.unwrapped = &w
	return v, nil
}

// loginClient returns a copy of c, namespace included, without a token,
// for a login request: c keeps its current token, which may still be
// valid, for concurrent reads and for when the login fails.
func loginClient(c *api.Client) (*api.Client, error) {
	lc, err := c.CloneWithHeaders()
	if err != nil {
		return nil, err
	}
	lc.ClearToken()
	return lc, nil
}

type kubernetesAuth struct{ mount, role, jwtPath string }

// DefaultServiceAccountToken is where Kubernetes mounts a pod's
// service-account token.
const DefaultServiceAccountToken = "/var/run/secrets/kubernetes.io/serviceaccount/token"

// KubernetesAuth logs in with the pod's service-account JWT, read from
// jwtPath (DefaultServiceAccountToken when empty) at every login because
// projected tokens rotate, at mount ("kubernetes" when empty).
func KubernetesAuth(role, jwtPath, mount string) Auth {
	if mount == "" {
		mount = "kubernetes"
	}
	if jwtPath == "" {
		jwtPath = DefaultServiceAccountToken
	}
	return kubernetesAuth{mount: mount, role: role, jwtPath: jwtPath}
}

func (a kubernetesAuth) name() string { return "kubernetes" }

func (a kubernetesAuth) login(ctx context.Context, c *api.Client) (*api.Secret, error) {
	jwt, err := os.ReadFile(a.jwtPath)
	if err != nil {
		return nil, fmt.Errorf("read service account token: %w", err)
	}
	lc, err := loginClient(c)
	if err != nil {
		return nil, err
	}
	s, err := lc.Logical().WriteWithContext(ctx, "auth/"+a.mount+"/login", map[string]any{"role": a.role, "jwt": strings.TrimSpace(string(jwt))})
	if err != nil {
		return nil, err
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return nil, errors.New("kubernetes login: no token in the answer")
	}
	c.SetToken(s.Auth.ClientToken)
	return s, nil
}
