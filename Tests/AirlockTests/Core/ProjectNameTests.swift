import AirlockCore
import Testing

@Suite struct ProjectNameTests {
    @Test(arguments: ["friendly-bard", "Friendly-Bard", "FRIENDLY-BARD", "friendly.bard", "friendly_bard", "friendly--bard", "FrIeNdLy-._.-bArD"])
    func pep503Examples(_ raw: String) {
        #expect(ProjectName(raw).normalized == "friendly-bard")
    }

    @Test func displayKeepsSpelling() {
        let n = ProjectName("Django_REST.framework")
        #expect(n.display == "Django_REST.framework")
        #expect(n == ProjectName("django-rest-framework"))
    }

    @Test func validity() {
        #expect(ProjectName.isValid("a"))
        #expect(ProjectName.isValid("zope.interface"))
        #expect(!ProjectName.isValid("-leading"))
        #expect(!ProjectName.isValid("trailing."))
        #expect(!ProjectName.isValid("sp ace"))
        #expect(!ProjectName.isValid(""))
    }
}
