-- Argo CD health check of kmsstack.io/KMSDeployment (Lua 5.1, as Argo CD's gopher-lua runs it).
-- Argo CD sets the global `obj` to the live object; the script returns { status = ..., message = ... }.
-- Install it under resource.customizations.health.kmsstack.io_KMSDeployment (see docs/argocd.md).
--
--   status.observedGeneration < metadata.generation  -> Progressing (the operator has not seen the spec yet)
--   Ready True (for the current generation)           -> Healthy
--   SpecValid False, or a False condition whose reason
--   is a terminal failure (needs a human to fix it)   -> Degraded
--   otherwise                                         -> Progressing, with the first condition that is not True

-- Condition reasons the operator sets when retrying cannot help until someone changes the spec, a
-- referenced Secret or Vault's configuration. Transient ones (Unreachable, Sealed, AuthFailed, which
-- is retried with a fresh login) stay Progressing. Keep in sync with the controller's reasons.
local terminalReasons = {
  InvalidSpec = true,          -- SpecValid: the spec breaks a rule the CRD cannot express
  InvalidCASecret = true,      -- CertificatesReady: the CA Secret given in spec.tls.caSecretRef is unusable
  SecretMissing = true,        -- VaultConfigured: a Secret the spec refers to does not exist
  PermissionDenied = true,     -- VaultConfigured: the operator's Vault policy lacks a capability
  KVVersionMismatch = true,    -- VaultConfigured: the KV mount has the other version
  KVMountMissing = true,       -- VaultConfigured: no KV mount and spec.vault.kv.create is false
  VaultAddressNotAllowed = true, -- VaultConfigured: spec.vault.address is not among the operator's --vault-addresses
  VaultRedirectRefused = true, -- VaultConfigured: Vault answered a redirect, which the operator never follows
  PrefixNotAllowed = true,     -- VaultConfigured: spec.vault.kv.prefix is outside the operator's --kv-prefix-template
  PrefixInUse = true,          -- VaultConfigured: an older KMSDeployment uses (or nests with) the same prefix
  VaultNameConflict = true,    -- VaultConfigured: a Vault policy or role with this deployment's name is someone else's
  AppRoleMountConflict = true, -- VaultConfigured: another auth method is mounted at the AppRole path
  UnsafeChangeRefused = true,  -- MinIOAvailable: a spec change that would lose or strand data
  KeyMissing = true,           -- KeysReady: a master key the operator created is gone from Vault
  KeyReplaced = true,          -- KeysReady: a master key in Vault is not the one the operator created
  InvalidCertificateSecret = true, -- CertificatesReady: a certificate Secret given in spec.minio.tls / spec.kes.tls is unusable
}

-- Data-path order: the first condition in this order that is not True is what the stack waits for.
local conditionOrder = {
  "SpecValid", "CertificatesReady", "VaultConfigured", "KESAvailable",
  "KeysReady", "MinIOAvailable", "EncryptionVerified",
}

local function describe(condition)
  local text = condition.type
  if condition.reason ~= nil and condition.reason ~= "" then
    text = text .. " " .. condition.reason
  end
  if condition.message ~= nil and condition.message ~= "" then
    text = text .. ": " .. condition.message
  end
  return text
end

local function health(object)
  local generation = nil
  if object.metadata ~= nil then
    generation = object.metadata.generation
  end
  local status = object.status
  if status == nil then
    return { status = "Progressing", message = "Waiting for the operator to reconcile this KMSDeployment" }
  end
  if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
    return { status = "Progressing", message = "Waiting for the operator to observe generation " .. tostring(generation) }
  end

  local byType = {}
  local listed = {}
  if status.conditions ~= nil then
    for _, condition in ipairs(status.conditions) do
      if condition.type ~= nil then
        byType[condition.type] = condition
        table.insert(listed, condition)
      end
    end
  end

  local ready = byType["Ready"]
  if ready ~= nil and ready.status == "True" then
    if generation ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration < generation then
      return { status = "Progressing", message = "Waiting for the operator to observe generation " .. tostring(generation) }
    end
    return { status = "Healthy", message = ready.message or "Ready" }
  end

  local specValid = byType["SpecValid"]
  if specValid ~= nil and specValid.status == "False" then
    return { status = "Degraded", message = describe(specValid) }
  end
  for _, condition in ipairs(listed) do
    if condition.status == "False" and condition.reason ~= nil and terminalReasons[condition.reason] then
      return { status = "Degraded", message = describe(condition) }
    end
  end

  for _, conditionType in ipairs(conditionOrder) do
    local condition = byType[conditionType]
    if condition ~= nil and condition.status ~= "True" then
      return { status = "Progressing", message = describe(condition) }
    end
  end
  for _, condition in ipairs(listed) do
    if condition.status ~= "True" then
      return { status = "Progressing", message = describe(condition) }
    end
  end
  return { status = "Progressing", message = "Waiting for the Ready condition" }
end

return health(obj)
