# kmsstack-operator: what the operator itself may do in Vault.

# Check (and create) the KV v1 mount kv.
path "sys/mounts/kv" {
  capabilities = ["create", "read", "update"]
}

# Check (and enable) the AppRole auth method; Vault requires sudo for sys/auth.
path "sys/auth/approle" {
  capabilities = ["create", "read", "update", "sudo"]
}

# The per-deployment KES policies.
path "sys/policies/acl/kmsstack-*" {
  capabilities = ["create", "read", "update", "delete"]
}

# The per-deployment AppRole roles: role-id, secret-id issue/list, destroy by accessor (and the finalizer's own single-use login to delete keys).
path "auth/approle/role/kmsstack-*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# The operator's own token: TTL, and telling an expired token from a missing permission.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

# The operator's own token: renewal before it expires.
path "auth/token/renew-self" {
  capabilities = ["update"]
}
