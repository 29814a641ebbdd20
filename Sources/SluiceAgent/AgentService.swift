import ServiceLifecycle

/// An agent as a swift-service-lifecycle `Service`: a `ServiceGroup` starts it with the
/// program's other services and stops it at graceful shutdown.
extension SluiceAgent: Service {
    /// Listens (unless already listening) until the task is cancelled or graceful shutdown
    /// begins, then stops. Throws `AgentError` when the socket cannot be made.
    public func run() async throws {
        if !isListening {
            do {
                try listen(directory: directory)
            } catch {
                stop()  // and its pool doctor with it
                throw error
            }
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await waitUntilStopped()
            } onCancel: {
                self.stop()
            }
        } onGracefulShutdown: {
            self.stop()
        }
    }
}
