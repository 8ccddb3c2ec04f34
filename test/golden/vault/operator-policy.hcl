# kmsstack-operator: what the operator itself may do in Vault.

# Check (and create) the KV v1 mount kv.
path "sys/mounts/kv" {
  capabilities = ["create", "read", "update"]
}

# Check (and enable) the AppRole auth method; Vault requires sudo for sys/auth.
path "sys/auth/approle" {
  capabilities = ["create", "read", "update", "sudo"]
}

# The per-deployment KES policies of operator instance default.
path "sys/policies/acl/kmsstack_default_*" {
  capabilities = ["create", "read", "update", "delete"]
}

# The per-deployment AppRole roles: role-id, secret-id issue/list, destroy by accessor (and the finalizer's own single-use login to delete keys).
path "auth/approle/role/kmsstack_default_*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}

# Upgrade from 0.1: read and delete the old per-deployment policies (drop once every KMSDeployment reports the new names).
path "sys/policies/acl/kmsstack-*" {
  capabilities = ["read", "delete"]
}

# Upgrade from 0.1: read and delete the old per-deployment AppRole roles.
path "auth/approle/role/kmsstack-*" {
  capabilities = ["read", "delete"]
}

# The operator's own token: TTL, and telling an expired token from a missing permission.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

# The operator's own token: renewal before it expires.
path "auth/token/renew-self" {
  capabilities = ["update"]
}
