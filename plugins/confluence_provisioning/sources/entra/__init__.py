"""Microsoft Entra ID as a source: Microsoft Graph v1.0, app-only, full and delta reads."""
