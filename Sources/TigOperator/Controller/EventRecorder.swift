import Foundation
import KubeClient
import Logging

/// Posts the operator's decisions as Events on its Deployment, so that
/// `kubectl describe deployment` tells why replicas changed. Best effort: a
/// lost Event is logged, never a reason to undo or repeat an action.
final class EventRecorder: Sendable {
    private let client: KubernetesClient
    private let namespace: String
    private let deployment: String
    private let instance: String
    private let logger: Logger

    init(client: KubernetesClient, namespace: String, deployment: String, instance: String, logger: Logger) {
        self.client = client
        self.namespace = namespace
        self.deployment = deployment
        self.instance = instance
        self.logger = logger
    }

    /// Events name the Deployment by uid too. The caller passes the uid of
    /// the Deployment it just read (the scale subresource carries it), so an
    /// Event never names a Deployment that was deleted and created again;
    /// without one, the Deployment is read.
    func post(reason: String, message: String, warning: Bool = false, deploymentUID: String? = nil) async {
        do {
            var uid = deploymentUID
            if uid == nil {
                uid = try await client.getDeployment(namespace: namespace, name: deployment).metadata.uid
            }
            let object = Event.ObjectReference(
                apiVersion: "apps/v1", kind: "Deployment", name: deployment, namespace: namespace, uid: uid)
            try await client.createEvent(
                Event(
                    about: object, reason: reason, message: message, type: warning ? "Warning" : "Normal",
                    component: "tig-operator", instance: instance, at: Date()))
        } catch {
            logger.warning("event-failed", metadata: ["reason": "\(reason)", "error": "\(error)"])
        }
    }
}
