# KES key store access for KMSDeployment storage/tenant-a (KV v2).
# Managed by kmsstack-operator: changes made here are overwritten.

path "secret/data/kmsstack/storage/tenant-a/*" {
  capabilities = ["create", "read"]
}

path "secret/metadata/kmsstack/storage/tenant-a/*" {
  capabilities = ["delete", "list"]
}

path "auth/token/renew-self" {
  capabilities = ["update"]
}
