import Foundation
@testable import KubeClient
import Testing

@Suite struct APIDecodingTests {
    let podJSON = """
        {"kind":"Pod","apiVersion":"v1","metadata":{"name":"tig-1","namespace":"default","uid":"u-1",
         "resourceVersion":"42","creationTimestamp":"2026-11-21T14:00:00Z",
         "annotations":{"controller.kubernetes.io/pod-deletion-cost":"-1000"},"managedFields":[{"x":1}]},
         "spec":{"containers":[{"name":"tig"}]},
         "status":{"phase":"Running","podIP":"10.1.2.3","startTime":"2026-11-21T14:00:01Z",
          "conditions":[{"type":"PodScheduled","status":"True"},{"type":"Ready","status":"True"}],
          "containerStatuses":[{"name":"tig","restartCount":1,"state":{"running":{"startedAt":"2026-11-21T14:05:00Z"}}}]}}
        """

    @Test func podDecodesIgnoringFieldsItDoesNotNeed() throws {
        let pod = try KubeJSON.decoder().decode(Pod.self, from: Data(podJSON.utf8))
        #expect(pod.metadata.uid == "u-1")
        #expect(pod.isReady)
        #expect(pod.status?.podIP == "10.1.2.3")
        #expect(pod.metadata.annotations?["controller.kubernetes.io/pod-deletion-cost"] == "-1000")
        // The container restarted at 14:05: its counter counts from there.
        #expect(pod.runningSince(container: "tig") == KubeTime.parse("2026-11-21T14:05:00Z"))
        #expect(pod.runningSince(container: "sidecar") == KubeTime.parse("2026-11-21T14:00:01Z"), "the pod's start")
    }

    @Test func podNotReadyWithoutTheReadyCondition() throws {
        var pod = try KubeJSON.decoder().decode(Pod.self, from: Data(podJSON.utf8))
        pod.status?.conditions = [PodCondition(type: "Ready", status: "False")]
        #expect(!pod.isReady)
        pod.status = nil
        #expect(!pod.isReady)
        #expect(pod.runningSince(container: "tig") == pod.metadata.creationTimestamp)
    }

    @Test func watchEventsOfEveryType() throws {
        let added = try WatchEvent<Pod>.decode(line: Array("{\"type\":\"ADDED\",\"object\":\(podJSON)}".utf8))
        guard case .added(let pod) = added else { Issue.record("\(added)"); return }
        #expect(pod.metadata.name == "tig-1")

        let bookmark = try WatchEvent<Pod>.decode(
            line: Array(#"{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"99"}}}"#.utf8))
        guard case .bookmark("99") = bookmark else { Issue.record("\(bookmark)"); return }

        let gone = try WatchEvent<Pod>.decode(
            line: Array(#"{"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"too old resource version: 1 (50)","reason":"Expired","code":410}}"#.utf8))
        guard case .error(let status) = gone else { Issue.record("\(gone)"); return }
        #expect(status.code == 410)
        #expect(status.reason == "Expired")

        #expect(throws: KubeAPIError.self) { try WatchEvent<Pod>.decode(line: Array(#"{"type":"SURPRISE","object":{}}"#.utf8)) }
    }

    @Test func statusOfAFailedCallBecomesTheError() {
        let response = HTTPResponse(
            status: 409,
            body: Array(#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"the object has been modified","reason":"Conflict","code":409}"#.utf8))
        let error = KubernetesClient.apiError(response)
        #expect(error.isConflict)
        #expect(error.description == "HTTP 409 Conflict: the object has been modified")
        // A body that is not a Status still gives the code.
        let bare = KubernetesClient.apiError(HTTPResponse(status: 503, body: Array("<html>".utf8)))
        #expect(bare.code == 503)
        #expect(bare.description == "HTTP 503")
    }

    @Test func scaleAndAutoscalers() throws {
        let scale = try KubeJSON.decoder().decode(
            Scale.self,
            from: Data(#"{"kind":"Scale","metadata":{"name":"tig"},"spec":{"replicas":3},"status":{"replicas":2,"selector":"app=tig"}}"#.utf8))
        #expect(scale.replicas == 3)
        let list = try KubeJSON.decoder().decode(
            HorizontalPodAutoscalerList.self,
            from: Data(#"{"items":[{"metadata":{"name":"a"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"tig"},"maxReplicas":3}},{"metadata":{"name":"b"},"spec":{"scaleTargetRef":{"kind":"StatefulSet","name":"tig"}}}]}"#.utf8))
        #expect(list.items.map { $0.targets(deployment: "tig") } == [true, false])
        #expect(!list.items[0].targets(deployment: "other"))
    }

    @Test func leaseRoundTripsWithMicrosecondTimes() throws {
        let renew = try #require(KubeTime.parse("2026-11-21T14:00:00.123456Z"))
        let lease = Lease(
            metadata: ObjectMeta(name: "tig-operator", namespace: "default", resourceVersion: "7"),
            spec: Lease.Spec(holderIdentity: "op-1", leaseDurationSeconds: 15, renewTime: renew, leaseTransitions: 2))
        let json = String(decoding: try KubeJSON.encoder().encode(lease), as: UTF8.self)
        #expect(json.contains(#""renewTime":"2026-11-21T14:00:00.123456Z""#))
        #expect(json.contains(#""resourceVersion":"7""#))
        let decoded = try KubeJSON.decoder().decode(Lease.self, from: Data(json.utf8))
        #expect(decoded == lease)
    }

    @Test func kubernetesTimes() throws {
        #expect(KubeTime.parse("2026-11-21T14:00:00Z")?.timeIntervalSince1970 == 1_795_269_600)
        #expect(KubeTime.parse("2026-11-21T15:00:00+01:00")?.timeIntervalSince1970 == 1_795_269_600)
        let fractional = try #require(KubeTime.parse("2026-11-21T14:00:00.5Z"))
        #expect(fractional.timeIntervalSince1970 == 1_795_269_600.5)
        for bad in ["", "2026-11-21", "2026-11-21T14:00:00", "2026-11-21T14:00:00Zjunk", "2026-1x-21T14:00:00Z"] {
            #expect(KubeTime.parse(bad) == nil, "\(bad)")
        }
        #expect(KubeTime.format(Date(timeIntervalSince1970: 1_795_269_600.25)) == "2026-11-21T14:00:00.250000Z")
    }

    @Test func eventNamesItsDeployment() throws {
        let object = Event.ObjectReference(apiVersion: "apps/v1", kind: "Deployment", name: "tig", namespace: "default", uid: "d-1")
        let event = Event(
            about: object, reason: "Divide", message: "replicas 2 → 3", type: "Normal", component: "tig-operator",
            instance: "op-1", at: Date(timeIntervalSince1970: 0))
        let json = try JSONSerialization.jsonObject(with: try KubeJSON.encoder().encode(event)) as? [String: Any]
        #expect((json?["metadata"] as? [String: Any])?["generateName"] as? String == "tig.")
        #expect((json?["involvedObject"] as? [String: Any])?["uid"] as? String == "d-1")
        #expect(json?["reason"] as? String == "Divide")
    }

    @Test func queryValuesAreEscaped() {
        #expect(KubernetesClient.queryString([("labelSelector", "app.kubernetes.io/name=tig,tier in (a b)")])
            == "?labelSelector=app.kubernetes.io%2Fname%3Dtig%2Ctier%20in%20%28a%20b%29")
        #expect(KubernetesClient.queryString([]) == "")
    }
}
