import Foundation
import KubeClient
import Logging

/// Posts the operator's decisions as Events on its Deployment, so that
/// `kubectl describe deployment` tells why replicas changed. Best effort: a
/// lost Event is logged, never a reason to undo or repeat an action.
final class EventRecorder {
    private let client: KubernetesClient
    private let namespace: String
    private let deployment: String
    private let instance: String
    private let logger: Logger
    /// Events name the Deployment by uid too; read once, when first needed.
    private var deploymentUID: String?

    init(client: KubernetesClient, namespace: String, deployment: String, instance: String, logger: Logger) {
        self.client = client
        self.namespace = namespace
        self.deployment = deployment
        self.instance = instance
        self.logger = logger
    }

    func post(reason: String, message: String, warning: Bool = false) async {
        do {
            if deploymentUID == nil {
                deploymentUID = try await client.getDeployment(namespace: namespace, name: deployment).metadata.uid
            }
            let object = Event.ObjectReference(
                apiVersion: "apps/v1", kind: "Deployment", name: deployment, namespace: namespace, uid: deploymentUID)
            try await client.createEvent(
                Event(
                    about: object, reason: reason, message: message, type: warning ? "Warning" : "Normal",
                    component: "tig-operator", instance: instance, at: Date()))
        } catch {
            logger.warning("event-failed", metadata: ["reason": "\(reason)", "error": "\(error)"])
        }
    }
}
