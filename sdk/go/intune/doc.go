// Intune remote assistance: the partner connection (the TeamViewer connector) and Remote Help's tenant settings, through Microsoft Graph.
package intune
