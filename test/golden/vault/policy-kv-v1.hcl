# KES key store access for KMSDeployment storage/tenant-a (KV v1).
# Managed by kmsstack-operator: changes made here are overwritten.

path "kv/minio/tenant-a/*" {
  capabilities = ["create", "read", "delete", "list"]
}

path "auth/token/renew-self" {
  capabilities = ["update"]
}
